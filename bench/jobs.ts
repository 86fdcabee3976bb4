/**
 * Background job benchmark: `node --import tsx bench/jobs.ts [--jobs N] [--rate R]`
 *
 *   1. throughput: N no-op jobs published with confirms to a quorum queue and consumed by two worker
 *      processes (each its own connection, prefetch WORKER_PREFETCH); reports jobs/second end to end.
 *   2. latency: orders placed at R per second (for S seconds) on PostgreSQL through the real checkout, relayed
 *      by this process and run by two real `bazaar worker` processes (payment capture, then the confirmation
 *      email) against a local SMTP server; reports p50/p99 from the order's commit (its 201) to the SMTP
 *      server accepting its confirmation.
 *
 * Needs RabbitMQ (BENCH_AMQP_URL, default amqp://guest:guest@127.0.0.1:5672) and PostgreSQL
 * (BENCH_DATABASE_URL, an admin URL; a scratch database is created and dropped). Queues use a unique prefix
 * and are deleted afterwards.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { migrate } from '../src/platform/db/index.js';
import { openPostgres } from '../src/platform/db/postgres.js';
import { openBroker } from '../src/platform/jobs/amqp/broker.js';
import { createConsumer, DEFAULT_RETRY_DELAYS_MS } from '../src/platform/jobs/amqp/consumer.js';
import { createPublisher } from '../src/platform/jobs/amqp/publisher.js';
import { createOutboxRelay } from '../src/platform/jobs/amqp/relay.js';
import { buildTestApp } from '../test/helpers/app.js';
import { startCli, waitForOutput } from '../test/helpers/cli.js';
import { createPostgresDatabase } from '../test/helpers/engines.js';
import { insertCategory, insertProduct } from '../test/helpers/fixtures.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { startSmtpSink } from '../test/helpers/smtp-sink.js';
import { addToCart, checkout, newShopper } from '../test/orders/shop.js';
import { deleteQueues } from '../test/pipeline/amqp-helpers.js';

const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: 'warn' });
const NOOP = 'bench.noop';

/** Child mode: one worker process consuming no-op jobs, reporting its count to the parent. */
async function noopWorker(prefix: string) {
  const broker = await openBroker({ url: AMQP_URL, logger, name: `${prefix}-worker-${process.pid}` });
  let handled = 0;
  const consumer = createConsumer({
    broker,
    prefix,
    logger,
    prefetch: 200,
    handlers: new Map([
      [
        NOOP,
        async () => {
          handled += 1;
        },
      ],
    ]),
  });
  await consumer.start();
  process.send?.({ ready: true });
  const timer = setInterval(() => process.send?.({ handled }), 100);
  process.on('message', async () => {
    clearInterval(timer);
    await consumer.stop();
    await broker.close();
    process.exit(0);
  });
}

async function throughput(prefix: string, jobs: number) {
  const workers = [0, 1].map(() =>
    fork(fileURLToPath(import.meta.url), ['--worker', prefix], { execArgv: ['--import', 'tsx'] }),
  );
  const counts = new Map<number, number>();
  await Promise.all(
    workers.map(
      (child, index) =>
        new Promise<void>((resolve) =>
          child.on('message', (message: { ready?: boolean; handled?: number }) => {
            if (message.ready) resolve();
            if (message.handled !== undefined) counts.set(index, message.handled);
          }),
        ),
    ),
  );
  const broker = await openBroker({ url: AMQP_URL, logger, name: `${prefix}-publisher` });
  const publisher = createPublisher({ broker, prefix });
  const started = performance.now();
  const window = 2_000;
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < jobs) {
        const id = ++next;
        await publisher.publish({ id, type: NOOP, payload: { id } });
      }
    }),
  );
  const published = performance.now();
  const total = () => [...counts.values()].reduce((sum, n) => sum + n, 0);
  while (total() < jobs) await new Promise((resolve) => setTimeout(resolve, 20));
  const done = performance.now();
  for (const child of workers) child.send('stop');
  await publisher.close();
  await broker.close();
  return {
    jobs,
    publishPerSecond: Math.round(jobs / ((published - started) / 1000)),
    endToEndPerSecond: Math.round(jobs / ((done - started) / 1000)),
    perWorker: [...counts.values()],
  };
}

async function latency(prefix: string, rate: number, seconds: number) {
  const scratch = await createPostgresDatabase(DATABASE_URL);
  const db = await openPostgres({ url: scratch.url, poolSize: 8 });
  await migrate(db);
  const sink = await startSmtpSink();
  const jwtSecret = randomBytes(32).toString('hex');
  const env = {
    DATABASE_URL: scratch.url,
    JWT_SECRET: jwtSecret,
    AMQP_URL,
    AMQP_QUEUE_PREFIX: prefix,
    SMTP_URL: sink.url,
    LOG_LEVEL: 'info',
    DATA_DIR: scratchDir('bench'),
  };
  const workers = [startCli(['worker'], env), startCli(['worker'], env)];
  await Promise.all(workers.map((child) => waitForOutput(child, /worker is consuming jobs/)));
  const t = await buildTestApp(db, { env: { SMTP_URL: sink.url } });
  const broker = await openBroker({ url: AMQP_URL, logger, name: `${prefix}-relay` });
  const publisher = createPublisher({ broker, prefix });
  const relay = createOutboxRelay({ db, publisher, logger });
  await relay.start();

  const committed = new Map<number, number>();
  const refused = new Map<number, number>();
  const accepted = new Map<number, number>();
  const watch = setInterval(() => {
    for (const mail of sink.received.splice(0)) {
      const id = /Subject: Order #(\d+) confirmed/.exec(mail.raw)?.[1];
      if (id) accepted.set(Number(id), performance.now());
    }
  }, 2);

  const total = rate * seconds;
  const productId = await insertProduct(db, {
    price: '9.99',
    stock: total,
    categoryId: await insertCategory(db, 'Bench'),
  });
  const shoppers = [];
  for (let i = 0; i < total; i += 1) {
    const shopper = await newShopper(t, db);
    await addToCart(t, shopper, productId, 1);
    shoppers.push(shopper);
  }
  // Orders at a steady rate: each checkout answers after its transaction (order + outbox rows) committed.
  const started = performance.now();
  await Promise.all(
    shoppers.map(async (shopper, i) => {
      const due = started + (i * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const placed = await checkout(t, shopper);
      if (placed.statusCode === 201) committed.set(placed.json().id as number, performance.now());
      else refused.set(placed.statusCode, (refused.get(placed.statusCode) ?? 0) + 1);
    }),
  );
  const deadline = Date.now() + 60_000;
  while (accepted.size < committed.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  clearInterval(watch);

  const samples = [...committed].flatMap(([id, at]) => {
    const end = accepted.get(id);
    return end === undefined ? [] : [end - at];
  });
  samples.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? 0);

  await relay.stop();
  for (const child of workers) child.kill('SIGTERM');
  await publisher.close();
  await broker.close();
  await t.close();
  await sink.close();
  await db.close();
  await scratch.drop();
  return {
    orders: committed.size,
    refused: [...refused].map(([code, n]) => `${n} x ${code}`),
    confirmed: samples.length,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    maxMs: pct(1),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      worker: { type: 'string' },
      jobs: { type: 'string', default: '20000' },
      rate: { type: 'string', default: '20' },
      seconds: { type: 'string', default: '10' },
    },
  });
  if (values.worker) return noopWorker(values.worker);
  const prefix = `bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    const a = await throughput(prefix, Number(values.jobs));
    process.stdout.write(
      `throughput: ${a.jobs} no-op jobs, 2 worker processes: publish ${a.publishPerSecond}/s, ` +
        `published-to-handled ${a.endToEndPerSecond}/s (split ${a.perWorker.join(' / ')})\n`,
    );
    const b = await latency(prefix, Number(values.rate), Number(values.seconds));
    process.stdout.write(
      `latency: ${b.orders} orders at ${values.rate}/s, order committed -> confirmation accepted by SMTP: ` +
        `p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms, max ${b.maxMs} ms (${b.confirmed} confirmed` +
        `${b.refused.length > 0 ? `; checkouts refused: ${b.refused.join(', ')}` : ''})\n`,
    );
  } finally {
    await deleteQueues(
      AMQP_URL,
      prefix,
      [
        NOOP,
        'payment.capture',
        'order.confirmation_email',
        'order.payment_failed_email',
        'payment.refund',
        'mail.send',
        'image.thumbnail',
      ],
      DEFAULT_RETRY_DELAYS_MS,
    );
  }
  process.exit(0);
}

await main();
