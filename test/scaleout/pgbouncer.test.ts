import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { type Database, migrate } from '../../src/platform/db/index.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { createPostgresDatabase, requireService } from '../helpers/engines.js';
import { freePort } from '../helpers/ports.js';

/**
 * deploy/pgbouncer/pgbouncer.ini (transaction pooling) in front of a real PostgreSQL, with Bazaar's own driver
 * settings (openPostgres): the startup parameters it sends, parameterised queries, transactions, many clients
 * sharing few server connections. Migrations run against the server directly, as the config file says.
 */
const run = promisify(execFile);
const pgUrl = requireService('TEST_DATABASE_URL');

function render(template: string, values: Record<string, string>): string {
  return template
    .split('\n')
    .map((line) => {
      const marker = /;\s*stack: (\w+)$/.exec(line);
      const value = marker?.[1] ? values[marker[1]] : undefined;
      return value === undefined ? line : value;
    })
    .join('\n');
}

describe('Bazaar through PgBouncer (transaction pooling)', { skip: !pgUrl }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-pgbouncer-'));
  let database: { url: string; drop: () => Promise<void> };
  let db: Database;
  let port: number;
  const asRoot = process.getuid?.() === 0;

  before(async () => {
    database = await createPostgresDatabase(pgUrl as string);
    const direct = await openPostgres({ url: database.url, poolSize: 1 });
    await migrate(direct);
    await direct.close();

    const server = new URL(database.url);
    port = await freePort();
    writeFileSync(path.join(dir, 'userlist.txt'), `"${server.username}" ""\n"pgbouncer" ""\n`);
    const ini = render(readFileSync('deploy/pgbouncer/pgbouncer.ini', 'utf8'), {
      database: `bazaar = host=${server.hostname} port=${server.port || 5432} dbname=${server.pathname.slice(1)}`,
      listen_addr: 'listen_addr = 127.0.0.1',
      listen_port: `listen_port = ${port}`,
      // The test server trusts local connections; production uses scram-sha-256.
      auth_type: 'auth_type = trust',
      auth_file: `auth_file = ${dir}/userlist.txt`,
      pidfile: `pidfile = ${dir}/pgbouncer.pid`,
      logfile: `logfile = ${dir}/pgbouncer.log`,
    });
    writeFileSync(path.join(dir, 'pgbouncer.ini'), ini);
    chmodSync(dir, 0o755);
    // PgBouncer, like PostgreSQL, refuses to run as root.
    if (asRoot) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout), 0);
    await run(asRoot ? 'runuser' : 'pgbouncer', [
      ...(asRoot ? ['-u', 'postgres', '--', 'pgbouncer'] : []),
      '-d',
      path.join(dir, 'pgbouncer.ini'),
    ]);
    const url = new URL(database.url);
    url.port = String(port);
    url.pathname = '/bazaar';
    for (let i = 0; ; i += 1) {
      try {
        // Transaction pooling (PgBouncer < 1.21) keeps no named statements: DATABASE_PREPARED_STATEMENTS=false.
        db = await openPostgres({ url: url.toString(), poolSize: 50, preparedStatements: false });
        await db.query('SELECT 1');
        break;
      } catch (error) {
        if (i > 50) throw error;
        await sleep(100);
      }
    }
  });
  after(async () => {
    await db?.close();
    try {
      process.kill(Number(readFileSync(path.join(dir, 'pgbouncer.pid'), 'utf8')), 'SIGTERM');
    } catch {
      // not started
    }
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the driver settings Bazaar connects with', async () => {
    const { rows } = await db.query<{ answer: number }>('SELECT $1::int + 1 AS answer', [41]);
    assert.equal(rows[0]?.answer, 42);
  });

  it('runs 200 concurrent transactions from 50 clients on at most 40 server connections', async () => {
    const { rows: categories } = await db.query<{ id: number }>(
      "INSERT INTO categories (name) VALUES ('Pooled') RETURNING id",
    );
    const categoryId = categories[0]?.id;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.query("SET LOCAL application_name = 'bazaar-tx'");
          await tx.query(
            `INSERT INTO products (name, description, price, stock_quantity, category_id)
             VALUES ($1, '', $2, 1, $3)`,
            [`pooled ${i}`, '9.99', categoryId],
          );
          const { rows } = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM products WHERE name = $1',
            [`pooled ${i}`],
          );
          assert.equal(rows[0]?.n, 1);
        }),
      ),
    );
    const { rows } = await db.reader.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM products WHERE category_id = $1',
      [categoryId],
    );
    assert.equal(rows[0]?.n, 200);

    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'pgbouncer', database: 'pgbouncer' });
    await admin.connect();
    try {
      const pools = await admin.query({ text: 'SHOW POOLS', rowMode: 'array' });
      const columns = pools.fields.map((field) => field.name);
      const bazaar = pools.rows.find((row) => row[columns.indexOf('database')] === 'bazaar') ?? [];
      const servers =
        Number(bazaar[columns.indexOf('sv_active')]) +
        Number(bazaar[columns.indexOf('sv_idle')]) +
        Number(bazaar[columns.indexOf('sv_used')]);
      assert.ok(servers <= 40, `${servers} server connections`);
    } finally {
      await admin.end();
    }
  });

  it('rolls a failed transaction back without poisoning the shared server connection', async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO categories (name) VALUES ('Rolled back')");
        await tx.query('SELECT 1 / 0');
      }),
      /division by zero/,
    );
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM categories WHERE name = 'Rolled back'",
    );
    assert.equal(rows[0]?.n, 0);
  });
});
