/**
 * Catalog speed against PostgreSQL with no cache: a product detail, a filtered and sorted list page, and
 * page 1 against page 10,000 of two sorts (the deep cursor is reached by walking the cursor chain).
 *
 *   psql -c 'CREATE DATABASE bazaar_bench'
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bazaar_bench bin/bazaar seed --products 1000000
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bazaar_bench npx tsx bench/catalog.ts
 *   psql -c 'DROP DATABASE bazaar_bench'
 *
 * Each scenario runs at a moderate fixed rate, BENCH_RATE requests per second (200), over BENCH_CONNECTIONS
 * (10) for BENCH_SECONDS (10): latency is then measured below saturation, where p99 means something. The
 * detail and the filtered list also run flat out (closed loop, the capacity) and from one client in sequence
 * (the latency of the work itself, with no queue). The server runs in
 * its own process (`bazaar serve`) on a free loopback port so the load generator does not share its event
 * loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createSigner } from 'fast-jwt';
import pg from 'pg';
import { freePort } from './processes.js';

interface Result {
  latency: { average: number; p50: number; p99: number; max: number };
  requests: { average: number };
  non2xx: number;
  errors: number;
}
interface Request {
  path: string;
}
// autocannon ships no type declarations; this is the part of its API the benchmark uses.
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  headers?: Record<string, string>;
  requests?: { setupRequest: (request: Request) => Request }[];
}) => Promise<Result>;

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL must name a seeded PostgreSQL database');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const rate = Number(process.env.BENCH_RATE ?? 200);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

// Signed-in reads skip the response cache (docs/caching.md), so every request below reaches the database:
// this benchmark measures the uncached path. The token is signed with the server's own secret.
const jwtSecret = randomBytes(32).toString('hex');
const auth = {
  authorization: `Bearer ${createSigner({ key: jwtSecret, algorithm: 'HS256', expiresIn: 3_600_000 })({ sub: '1', role: 'customer' })}`,
};

async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: jwtSecret,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_FACTOR: '0',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let tries = 0; tries < 300; tries += 1) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error('the server did not become ready');
}

async function walk(base: string, query: string, pages: number): Promise<string> {
  let cursor = '';
  for (let page = 1; page < pages; page += 1) {
    const res = await fetch(`${base}/api/products/?${query}${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: auth,
    });
    const body = (await res.json()) as { next_cursor: string | null };
    if (!res.ok || body.next_cursor === null) throw new Error(`the chain of ${query} ends at page ${page}`);
    cursor = body.next_cursor;
  }
  return cursor;
}

type Mode = 'rate' | 'flat-out' | 'one-client';

async function load(base: string, paths: string[], mode: Mode = 'rate'): Promise<Result> {
  let next = 0;
  const result = await autocannon({
    url: base,
    headers: auth,
    connections: mode === 'one-client' ? 1 : connections,
    duration: seconds,
    ...(mode === 'rate' ? { overallRate: rate } : {}),
    requests: [
      {
        setupRequest: (request) => {
          next = (next + 1) % paths.length;
          return { ...request, path: paths[next] as string };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return result;
}

const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
const ids = (
  await db.query<{ id: number }>(
    'SELECT id FROM products TABLESAMPLE SYSTEM (1) WHERE deleted_at IS NULL ORDER BY random() LIMIT 2000',
  )
).rows.map((row) => row.id);
const electronics = (
  await db.query<{ id: number }>("SELECT id FROM categories WHERE name = 'Electronics' AND parent_id IS NULL")
).rows[0]?.id;
const total = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM products')).rows[0]?.n;
await db.end();
if (ids.length === 0 || electronics === undefined) throw new Error('seed the database first');

const port = await freePort();
const server = await startServer(port);
const base = `http://127.0.0.1:${port}`;
const rows: string[] = [];
const report = (name: string, result: Result) => {
  rows.push(
    `| ${name} | ${Math.round(result.requests.average)} | ${result.latency.average.toFixed(2)} | ` +
      `${result.latency.p50} | ${result.latency.p99} | ${result.latency.max} |`,
  );
  process.stderr.write(`${rows.at(-1)}\n`);
};
const filtered = `category_id=${electronics}&min_price=10&max_price=200&in_stock=true&sort=price&limit=20`;

try {
  const details = ids.map((id) => `/api/products/${id}/`);
  const list = [`/api/products/?${filtered}`];
  await load(base, details, 'flat-out'); // warm-up: JIT, pool, buffer cache
  report('GET /api/products/{id}/ (2,000 random ids), flat out', await load(base, details, 'flat-out'));
  report('GET /api/products/{id}/ (2,000 random ids)', await load(base, details));
  report(
    'GET /api/products/{id}/ (2,000 random ids), one client in sequence',
    await load(base, details, 'one-client'),
  );
  report(`GET /api/products/?${filtered}, flat out`, await load(base, list, 'flat-out'));
  report(`GET /api/products/?${filtered}`, await load(base, list));
  report(`GET /api/products/?${filtered}, one client in sequence`, await load(base, list, 'one-client'));
  for (const sort of ['price', '-created_at']) {
    const query = `sort=${sort}&limit=20`;
    const started = performance.now();
    const deep = await walk(base, query, 10_000);
    process.stderr.write(
      `walked 10,000 pages of ${sort} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    const first = await load(base, [`/api/products/?${query}`]);
    const last = await load(base, [`/api/products/?${query}&cursor=${deep}`]);
    report(`sort=${sort}, page 1`, first);
    report(`sort=${sort}, page 10,000`, last);
    rows.push(
      `| page 10,000 / page 1 (${sort}) | | ${(last.latency.average / first.latency.average).toFixed(2)} | | ` +
        `${(last.latency.p99 / Math.max(first.latency.p99, 1)).toFixed(2)} | |`,
    );
  }
} finally {
  server.kill('SIGTERM');
}

process.stdout.write(
  `${total} products, ${connections} connections, ${rate} req/s unless flat out, ${seconds} s per ` +
    'scenario, no cache\n\n' +
    '| scenario | req/s | mean ms | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- | --- |\n' +
    `${rows.join('\n')}\n`,
);
