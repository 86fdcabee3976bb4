/**
 * What the metrics hooks cost a request: the same cached-style GET (a constant answer, no database) through
 * Bazaar's HTTP server without and with the metrics plugin. Requests go through Fastify's whole lifecycle by
 * inject (no sockets, so the client's own work does not blur the figure); many short rounds alternate between
 * the two servers, in swapped order, so both see the same machine noise, and the medians are compared.
 * SAME=1 leaves the plugin out of both servers: the ratio it prints is the bench's own noise.
 * Run: node --import tsx bench/metrics-overhead.ts   (env: ROUNDS=40, PER_ROUND=2000)
 */
import pino from 'pino';
import { openPglite } from '../src/platform/db/pglite.js';
import { createHttpServer, type HttpServer } from '../src/platform/http/server.js';
import { metricsPlugin } from '../src/platform/observability/http-metrics.js';
import { httpRequestDuration, httpRequestsInFlight } from '../src/platform/observability/metrics.js';

const ROUNDS = Number(process.env.ROUNDS ?? 40);
const PER_ROUND = Number(process.env.PER_ROUND ?? 2000);
const PRODUCT = { id: 42, name: 'Walnut desk', price: '249.00', stock_quantity: 7 };

async function server(withMetrics: boolean): Promise<HttpServer> {
  const app = await createHttpServer({
    logger: pino({ level: 'silent' }),
    publicUrl: 'http://x',
    version: '0',
  });
  if (withMetrics && process.env.SAME !== '1')
    await app.register(metricsPlugin, { db: await openPglite(null) });
  app.get('/api/products/:id/', async () => PRODUCT);
  await app.ready();
  return app;
}

/** CPU microseconds per request over one round (CPU time, not wall time: other tenants' load blurs less). */
async function round(app: HttpServer): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < PER_ROUND; i += 1) {
    const res = await app.inject({ method: 'GET', url: `/api/products/${(i % 500) + 1}/` });
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  }
  const spent = process.cpuUsage(started);
  return (spent.user + spent.system) / PER_ROUND;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const plain = await server(false);
const measured = await server(true);
await round(plain); // warm-up (JIT), not counted
await round(measured);

const without: number[] = [];
const withHooks: number[] = [];
for (let i = 0; i < ROUNDS; i += 1) {
  // Swap the order every round: the second of a pair pays for the first one's garbage.
  if (i % 2 === 0) {
    without.push(await round(plain));
    withHooks.push(await round(measured));
  } else {
    withHooks.push(await round(measured));
    without.push(await round(plain));
  }
}
/** The hooks' own work, alone: one gauge increment and decrement and one histogram observation. */
function hookWorkNanoseconds(): number {
  const iterations = 1_000_000;
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) {
    httpRequestsInFlight.inc();
    httpRequestsInFlight.dec();
    httpRequestDuration.series('GET', '/api/products/:id/', '200').observe(0.0004);
  }
  return ((performance.now() - started) * 1e6) / iterations;
}

const a = median(without);
const b = median(withHooks);
const counted = (await httpRequestDuration.get()).values
  .filter((v) => v.metricName === 'bazaar_http_request_duration_seconds_count')
  .reduce((sum, v) => sum + v.value, 0);

console.log(`cached-style GET by inject, ${ROUNDS} alternating rounds of ${PER_ROUND} requests per variant`);
console.log(`  without metrics hooks: median ${a.toFixed(2)} us CPU/request`);
console.log(`  with metrics hooks:    median ${b.toFixed(2)} us CPU/request`);
console.log(`  ratio with/without: ${(b / a).toFixed(3)}  (hooks add ~${(b - a).toFixed(2)} us per request)`);
console.log(`  requests the histogram observed: ${counted}`);
console.log(`  the hooks' metric updates alone: ${hookWorkNanoseconds().toFixed(0)} ns per request`);
await plain.close();
await measured.close();
