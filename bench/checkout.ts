/**
 * Checkout under load on PostgreSQL. Creates a database of its own (dropped at the end), starts `bazaar serve
 * --instances BENCH_INSTANCES` (2) on a free port (their in-process job runners capture the payments and send
 * the mails), then runs three scenarios with BENCH_BUYERS (100) concurrent buyers for BENCH_SECONDS (15):
 *
 *   spread, jobs held   each buyer adds one of 1,000 products (ample stock) to the cart and checks out, again
 *                       and again; the jobs the checkouts write are held until the load stops (as when the
 *                       fleet's workers run them elsewhere), then released, and their drain is timed;
 *   spread, jobs live   the same, with the server's job runner capturing and mailing on the same two cores;
 *   hot                 each cart holds two of 10 hot products in random order, BENCH_HOT_STOCK (300) units
 *                       each, which run out during the run; a short-stock 409 is the designed answer (the buyer
 *                       empties the cart and goes on). Checks: no 5xx, no deadlock (pg_stat_database), stock
 *                       never negative, units sold + stock left = stock at start. Also reports the rate until
 *                       the last order; with BENCH_HOT_STOCK=10000000 nothing sells out and the run measures
 *                       the ten rows' contention (jobs run live in this scenario).
 *
 *   ADMIN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/checkout.ts
 *
 * BENCH_SCENARIOS picks some of them (`held,live,hot`, the default); BENCH_PG_SETTINGS=name=value,... sets
 * PostgreSQL settings on the bench's database first (experiments such as synchronous_commit=off).
 *
 * Every checkout carries a fresh Idempotency-Key. Reported: orders per second, checkout p50/p99 (ms), every
 * status seen, and the CPU each order cost the server, PostgreSQL and this load generator.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/platform/db/index.js';
import { openPostgres } from '../src/platform/db/postgres.js';
import { createAccessTokens } from '../src/platform/http/auth.js';
import { HttpConnection } from './http-connection.js';
import { percentile } from './paced.js';
import { adminQuery, freePort, procStat, serverNodeArgs } from './processes.js';

const adminUrl = process.env.ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const buyers = Number(process.env.BENCH_BUYERS ?? 100);
/** `serve --instances`: two processes, one per core, as `bazaar serve` is run on a machine like this one. */
const instances = Number(process.env.BENCH_INSTANCES ?? 2);
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
/** BENCH_SCENARIOS: a comma-separated subset of held, live, hot (default all three). */
const chosen = (process.env.BENCH_SCENARIOS ?? 'held,live,hot').split(',').map((name) => name.trim());
const ROOT = fileURLToPath(new URL('../', import.meta.url));

const admin = (sql: string) => adminQuery(adminUrl, sql);

function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...serverNodeArgs(), '--import', 'tsx', 'src/main.ts', 'serve', '--instances', String(instances)],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', RATE_LIMIT_FACTOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), 60_000);
    const poll = setInterval(async () => {
      try {
        if ((await fetch(`http://127.0.0.1:${env.PORT}/healthz`)).ok) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(child);
        }
      } catch {
        // not listening yet
      }
    }, 200);
    child.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
}

/** CPU milliseconds used so far by these processes: utime + stime of /proc/PID/stat (Linux, 100 ticks/s). */
function cpuMs(pids: readonly number[]): number {
  // A process gone meanwhile loses its time: the figure is then a lower bound.
  return pids.reduce((sum, pid) => sum + (procStat(pid)?.cpuSeconds ?? 0) * 1000, 0);
}

/** The process and its descendants (a `serve --instances N` cluster). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = procStat(Number(entry))?.ppid;
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i += 1) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

/** CPU ms so far of the server, of PostgreSQL's backends for this database, and of this load generator. */
interface CpuSnapshot {
  server: number;
  postgres: number;
  client: number;
}

interface Tally {
  cpu: CpuSnapshot;
  orders: number;
  /** Seconds from the start to the last order placed (the hot products' sell-out, when they sell out). */
  lastOrderSeconds: number;
  latencies: number[];
  statuses: Map<string, number>;
}

async function scenario(
  base: string,
  tokens: string[],
  pickProducts: () => number[],
  cpu: () => Promise<CpuSnapshot>,
): Promise<Tally & { seconds: number }> {
  const cpuBefore = await cpu();
  const tally: Tally = { cpu: cpuBefore, orders: 0, lastOrderSeconds: 0, latencies: [], statuses: new Map() };
  const note = (what: string, status: number) => {
    const key = `${what} ${status}`;
    tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1);
  };
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    tokens.map(async (token, buyer) => {
      // Each buyer on a keep-alive connection of its own (bench/http-connection.ts).
      const connection = new HttpConnection(new URL(base));
      const auth = `Authorization: Bearer ${token}`;
      let n = 0;
      try {
        while (Date.now() < deadline) {
          for (const productId of pickProducts()) {
            const status = await connection.request('POST', '/api/cart/items/', [auth], {
              product_id: productId,
              quantity: 1 + (n % 3),
            });
            if (status !== 201) note('add', status);
          }
          n += 1;
          const begun = performance.now();
          const status = await connection.request(
            'POST',
            '/api/orders/',
            [auth, `Idempotency-Key: bench-${buyer}-${n}-${started}`],
            { payment_method: 'card', payment_token: 'tok_visa' },
          );
          tally.latencies.push(performance.now() - begun);
          note('checkout', status);
          if (status === 201) {
            tally.orders += 1;
            tally.lastOrderSeconds = (Date.now() - started) / 1000;
          } else await connection.request('DELETE', '/api/cart/', [auth]);
        }
      } finally {
        connection.close();
      }
    }),
  );
  const cpuAfter = await cpu();
  tally.cpu = {
    server: cpuAfter.server - cpuBefore.server,
    postgres: cpuAfter.postgres - cpuBefore.postgres,
    client: cpuAfter.client - cpuBefore.client,
  };
  return { ...tally, seconds: (Date.now() - started) / 1000 };
}

function report(name: string, result: Tally & { seconds: number }) {
  const sorted = [...result.latencies].sort((a, b) => a - b);
  const statuses = [...result.statuses].map(([key, count]) => `${key}: ${count}`).join(', ');
  process.stdout.write(
    `${name}: ${result.orders} orders in ${result.seconds.toFixed(1)} s = ${(result.orders / result.seconds).toFixed(0)} orders/s; ` +
      `checkout p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms; ${statuses}\n`,
  );
  // Sold out before the end: the rate while there was stock to sell is the one that says something.
  if (result.seconds - result.lastOrderSeconds > 1 && result.orders > 0) {
    process.stdout.write(
      `  last order at ${result.lastOrderSeconds.toFixed(1)} s: ${(result.orders / result.lastOrderSeconds).toFixed(0)} orders/s while stock lasted\n`,
    );
  }
  // CPU per order does not depend on what else the machine runs, as throughput does.
  const perOrder = (ms: number) => (ms / Math.max(1, result.orders)).toFixed(2);
  process.stdout.write(
    `  CPU per order: server ${perOrder(result.cpu.server)} ms, PostgreSQL ${perOrder(result.cpu.postgres)} ms, ` +
      `load generator ${perOrder(result.cpu.client)} ms\n`,
  );
}

/**
 * The server reaches a PostgreSQL on this machine through its Unix socket (BENCH_SOCKET_DIR, default
 * /var/run/postgresql when it is there; "" for TCP): a statement then costs less CPU on both sides than over
 * loopback TCP. docs/performance_tuning.md gives the figures.
 */
function serverDatabaseUrl(tcp: URL): string {
  const dir = process.env.BENCH_SOCKET_DIR ?? '/var/run/postgresql';
  const local = tcp.hostname === '127.0.0.1' || tcp.hostname === 'localhost';
  if (!local || dir === '' || !existsSync(`${dir}/.s.PGSQL.${tcp.port || 5432}`)) return tcp.toString();
  const socket = new URL(tcp);
  socket.hostname = 'localhost';
  socket.searchParams.set('host', dir);
  return socket.toString();
}

const dbName = `bazaar_bench_checkout_${process.pid}`;
const dataDir = path.join(tmpdir(), dbName);
await admin(`CREATE DATABASE ${dbName}`);
for (const setting of (process.env.BENCH_PG_SETTINGS ?? '').split(',').filter(Boolean)) {
  const [name, value] = setting.split('=');
  await admin(`ALTER DATABASE ${dbName} SET ${name} = '${value}'`);
}
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const db = await openPostgres({ url: url.toString(), poolSize: 4 });
let server: ChildProcess | undefined;
try {
  await migrate(db);
  const { rows: category } = await db.query<{ id: number }>(
    `INSERT INTO categories (name) VALUES ('Bench') RETURNING id`,
  );
  const categoryId = (category[0] as { id: number }).id;
  const HOT_STOCK = Number(process.env.BENCH_HOT_STOCK ?? 300);
  await db.query(
    `INSERT INTO products (name, price, stock_quantity, category_id)
     SELECT 'Product ' || g, (1 + g % 200) + 0.99, CASE WHEN g <= 10 THEN $2 ELSE 1000000 END, $1
       FROM generate_series(1, 1010) g`,
    [categoryId, HOT_STOCK],
  );
  const { rows: users } = await db.query<{ id: number }>(
    `INSERT INTO users (username, email, password)
     SELECT 'buyer' || g, 'buyer' || g || '@bench.localhost', 'not-a-hash' FROM generate_series(1, $1) g
     RETURNING id`,
    [buyers],
  );
  const secret = randomBytes(32).toString('hex');
  const tokens = createAccessTokens(secret);
  const port = await freePort();
  server = await startServer({
    DATABASE_URL: serverDatabaseUrl(url),
    JWT_SECRET: secret,
    PORT: String(port),
    DATA_DIR: dataDir,
  });
  const base = `http://127.0.0.1:${port}`;
  const buyerTokens = users.map((user) => tokens.sign({ id: user.id, role: 'customer' }));
  const random = (from: number, count: number) => from + Math.floor(Math.random() * count);
  const serverPid = server.pid as number;
  const cpu = async (): Promise<CpuSnapshot> => {
    const { rows } = await db.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
    );
    const own = process.cpuUsage();
    return {
      server: cpuMs(processTree(serverPid)),
      postgres: cpuMs(rows.map((row) => row.pid)),
      client: (own.user + own.system) / 1000,
    };
  };
  const backlog = async () =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_jobs WHERE status <> 'done'`))
      .rows[0]?.n ?? 0;
  /** The payment captures and mails of the orders, run by the server's job runner after the load stops. */
  const drain = async () => {
    const left = await backlog();
    const begun = Date.now();
    while ((await backlog()) > 0 && Date.now() - begun < 300_000) await sleep(250);
    process.stdout.write(
      `  jobs not done when the load stopped: ${left}; all done ${((Date.now() - begun) / 1000).toFixed(1)} s later\n`,
    );
  };
  /**
   * Holds every job written during a scenario (its run_at pushed an hour ahead by a trigger of this bench's
   * database), as if the fleet's workers ran them on other machines: the scenario then measures the checkout
   * tier alone. Releasing runs them all at once on the server's job runner, and drain() times it.
   */
  const holdJobs = () =>
    db.query(
      `CREATE OR REPLACE FUNCTION bench_hold_job() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN NEW.run_at := NEW.run_at + interval '1 hour'; RETURN NEW; END $$;
       CREATE TRIGGER bench_hold_job BEFORE INSERT ON outbox_jobs FOR EACH ROW EXECUTE FUNCTION bench_hold_job()`,
    );
  const releaseJobs = async () => {
    await db.query('DROP TRIGGER bench_hold_job ON outbox_jobs');
    await db.query(
      `UPDATE outbox_jobs SET run_at = now() WHERE status = 'pending' AND run_at > now();
       SELECT pg_notify('bazaar_jobs', 'bench')`,
    );
  };

  process.stdout.write(
    `${buyers} buyers, ${seconds} s per scenario, PostgreSQL, \`serve --instances ${instances}\` in its own ` +
      `processes, database ${new URL(serverDatabaseUrl(url)).searchParams.get('host') ?? 'over TCP'}\n`,
  );
  if (chosen.includes('held')) {
    await holdJobs();
    report(
      'spread (1,000 products), jobs held for workers elsewhere',
      await scenario(base, buyerTokens, () => [random(11, 1000)], cpu),
    );
    await releaseJobs();
    await drain();
  }
  if (chosen.includes('live')) {
    report(
      'spread (1,000 products), jobs run by this server meanwhile',
      await scenario(base, buyerTokens, () => [random(11, 1000)], cpu),
    );
    await drain();
  }
  if (chosen.includes('hot')) {
    const deadlocksBefore = await db.query<{ deadlocks: number }>(
      'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
    );
    report(
      'hot (10 products, 2 per cart)',
      await scenario(
        base,
        buyerTokens,
        () => {
          const a = random(1, 10);
          const b = 1 + ((a + random(0, 9)) % 10);
          return [a, b];
        },
        cpu,
      ),
    );
    await drain();
    const deadlocksAfter = await db.query<{ deadlocks: number }>(
      'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
    );
    const { rows: ledger } = await db.query<{ id: number; stock: number; sold: number }>(
      `SELECT p.id, p.stock_quantity AS stock,
              coalesce((SELECT sum(oi.quantity) FROM order_items oi JOIN orders o ON o.id = oi.order_id
                         WHERE oi.product_id = p.id AND o.order_status <> 'canceled'), 0)::int AS sold
         FROM products p WHERE p.id <= 10 ORDER BY p.id`,
    );
    const balanced = ledger.every((row) => row.stock >= 0 && row.stock + row.sold === HOT_STOCK);
    process.stdout.write(
      `hot products: stock left ${ledger.map((row) => row.stock).join(' ')}; sold + left = ${HOT_STOCK} for each: ` +
        `${balanced}; deadlocks during the run: ${
          Number(deadlocksAfter.rows[0]?.deadlocks) - Number(deadlocksBefore.rows[0]?.deadlocks)
        }\n`,
    );
  }
} finally {
  server?.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await db.close();
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  // The servers' DATA_DIR: a mail for every order of the run.
  rmSync(dataDir, { recursive: true, force: true });
}
