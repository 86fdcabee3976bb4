import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { runCli } from '../helpers/cli.js';
import { createPostgresDatabase, requireService } from '../helpers/engines.js';

const run = promisify(execFile);
const pgUrl = requireService('TEST_DATABASE_URL');

interface Snapshot {
  users: number;
  orders: number;
  order_items: number;
  products: number;
  totals: string;
}

/** What a restore must bring back: the counts, and a checksum of every order's total in id order. */
async function snapshot(url: string): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Snapshot>(`SELECT
      (SELECT count(*)::int FROM users) AS users,
      (SELECT count(*)::int FROM orders) AS orders,
      (SELECT count(*)::int FROM order_items) AS order_items,
      (SELECT count(*)::int FROM products) AS products,
      (SELECT md5(string_agg(id || ':' || total_amount::text, ',' ORDER BY id)) FROM orders) AS totals`);
    return rows[0] as Snapshot;
  } finally {
    await client.end();
  }
}

describe('backup and restore', { skip: !pgUrl }, () => {
  let database: { url: string; drop: () => Promise<void> };
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-backup-'));

  before(async () => {
    database = await createPostgresDatabase(pgUrl as string);
    const seeded = await runCli(['seed', '--products', '1000', '--users', '50', '--orders', '200'], {
      DATABASE_URL: database.url,
      JWT_SECRET: 'x'.repeat(32),
    });
    assert.equal(seeded.code, 0, seeded.stderr);
  });
  after(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('brings back every user and order, with the same totals, after the database is dropped', async () => {
    const before = await snapshot(database.url);
    assert.deepEqual([before.users, before.orders, before.products], [50, 200, 1000]);
    const file = path.join(dir, 'bazaar.dump');
    const env = { ...process.env, DATABASE_URL: database.url };
    await run('scripts/backup', [file], { env });

    await database.drop();
    await run('scripts/restore', [file], { env });

    assert.deepEqual(await snapshot(database.url), before);
  });

  it('refuses to restore over a database that holds tables, unless told to clean it', async () => {
    const file = path.join(dir, 'bazaar.dump');
    const env = { ...process.env, DATABASE_URL: database.url };
    await assert.rejects(run('scripts/restore', [file], { env }), /already holds \d+ tables; pass --clean/);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('DELETE FROM order_items');
    await client.end();
    await run('scripts/restore', [file, '--clean'], { env });
    assert.equal((await snapshot(database.url)).order_items > 0, true);
  });
});
