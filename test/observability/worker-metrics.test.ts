import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { openBroker } from '../../src/platform/jobs/amqp/broker.js';
import { createConsumer, DEFAULT_RETRY_DELAYS_MS } from '../../src/platform/jobs/amqp/consumer.js';
import { createPublisher } from '../../src/platform/jobs/amqp/publisher.js';
import { PermanentJobError } from '../../src/platform/jobs/registry.js';
import { registry } from '../../src/platform/observability/metrics.js';
import { startMetricsServer } from '../../src/platform/observability/metrics-server.js';
import { buildTestApp } from '../helpers/app.js';
import { exitOf, startCli, waitForOutput } from '../helpers/cli.js';
import { forEachEngine, openTestDatabase, requireService, type TestDatabase } from '../helpers/engines.js';
import { freePort } from '../helpers/ports.js';
import { scratchDir } from '../helpers/scratch.js';
import { deleteQueues, uniquePrefix, waitFor } from '../pipeline/amqp-helpers.js';
import { sampleOf } from './scrape.js';

const amqpUrl = requireService('TEST_AMQP_URL');
const pgUrl = requireService('TEST_DATABASE_URL');

/** A port nobody listens on right now: the worker gets it through METRICS_PORT, like in production. */

forEachEngine('metrics server probes', (ctx) => {
  it('answers /readyz 200 while the database and broker answer, 503 naming the broker once it is closed', {
    skip: amqpUrl ? false : 'needs TEST_AMQP_URL',
  }, async () => {
    const broker = await openBroker({
      url: amqpUrl as string,
      logger: pino({ level: 'silent' }),
      name: `test-probes-${process.pid}`,
    });
    await broker.ready();
    const server = await startMetricsServer(0, '127.0.0.1', {
      database: async () => {
        await ctx.db.query('SELECT 1');
      },
      broker: async () => {
        if (!broker.connected()) throw new Error('not connected');
      },
    });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ok', checks: { database: 'ok', broker: 'ok' } });
      assert.equal(sampleOf(await (await fetch(`${base}/metrics`)).text(), 'bazaar_broker_connected'), 1);

      await broker.close();
      const down = await fetch(`${base}/readyz`);
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), {
        status: 'unavailable',
        checks: { database: 'ok', broker: 'not connected' },
      });
      assert.equal((await fetch(`${base}/healthz`)).status, 200, 'alive even when not ready');
      assert.equal(sampleOf(await (await fetch(`${base}/metrics`)).text(), 'bazaar_broker_connected'), 0);
      assert.equal((await fetch(`${base}/nothing`)).status, 404);
    } finally {
      await server.close();
      await broker.close().catch(() => {});
    }
  });
});

// A worker is its own process sharing the database, so this needs PostgreSQL (and RabbitMQ).
describe('bazaar worker serves its probes and metrics on METRICS_PORT [postgres]', {
  skip: amqpUrl && pgUrl ? false : 'needs TEST_AMQP_URL and TEST_DATABASE_URL',
}, () => {
  const prefix = uniquePrefix('worker-metrics');
  let database: TestDatabase;

  before(async () => {
    database = await openTestDatabase('postgres');
  });
  after(async () => {
    // The worker declared the queues of every job type the app registers.
    const t = await buildTestApp(database.db);
    await deleteQueues(amqpUrl as string, prefix, t.app.jobs.types(), DEFAULT_RETRY_DELAYS_MS);
    await t.close();
    await database.drop();
  });

  it('answers /healthz, /readyz and /metrics, and stops on SIGTERM', async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: database.url as string,
      JWT_SECRET: 'a-test-secret-that-is-at-least-32-characters',
      AMQP_URL: amqpUrl as string,
      AMQP_QUEUE_PREFIX: prefix,
      DATA_DIR: scratchDir('worker'),
      METRICS_PORT: String(port),
    };
    const child = startCli(['worker'], env);
    try {
      await waitForOutput(child, /worker is consuming jobs/);
      const base = `http://127.0.0.1:${port}`;
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ok', checks: { database: 'ok', broker: 'ok' } });
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.equal(sampleOf(text, 'bazaar_broker_connected'), 1);
      assert.match(text, /^# TYPE bazaar_jobs_total counter$/m);
      assert.match(text, /^bazaar_outbox_backlog 0$/m);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exitOf(child), 0);
    }
  });
});

describe('RabbitMQ consumer metrics', { skip: amqpUrl ? false : 'needs TEST_AMQP_URL' }, () => {
  const prefix = uniquePrefix('consumer-metrics');
  const types = ['m_ok', 'm_flaky', 'm_dead'];
  const delays = [50];
  after(() => deleteQueues(amqpUrl as string, prefix, types, delays));

  it('counts done, retried and failed runs by type, and the messages waiting in the dead queues', async () => {
    const logger = pino({ level: 'silent' });
    const broker = await openBroker({ url: amqpUrl as string, logger, name: `${prefix}-consumer` });
    const finished = new Set<string>();
    const consumer = createConsumer({
      broker,
      prefix,
      logger,
      retryDelaysMs: delays,
      maxAttempts: 3,
      handlers: new Map([
        ['m_ok', async () => void finished.add('m_ok')],
        [
          'm_flaky',
          async (_payload: unknown, job: { attempt: number }) => {
            if (job.attempt === 1) throw new Error('first run fails');
            finished.add('m_flaky');
          },
        ],
        [
          'm_dead',
          async () => {
            finished.add('m_dead');
            throw new PermanentJobError('never works');
          },
        ],
      ]),
    });
    const publisher = createPublisher({ broker, prefix });
    try {
      await consumer.start();
      const before = await registry.metrics();
      for (const type of types) await publisher.publish({ id: 1, type, payload: {} });
      await waitFor(() => finished.size === 3, 10_000, 'the three jobs');
      let now = '';
      const delta = (type: string, outcome: string) =>
        sampleOf(now, 'bazaar_jobs_total', { type, outcome }) -
        sampleOf(before, 'bazaar_jobs_total', { type, outcome });
      // The failure is counted once its republish to the dead queue is confirmed, a moment after the run.
      await waitFor(
        async () => {
          now = await registry.metrics();
          return sampleOf(now, 'bazaar_broker_dead_letter_messages') === 1 && delta('m_dead', 'failed') > 0;
        },
        10_000,
        'the dead letter',
      );
      assert.equal(delta('m_ok', 'done'), 1);
      assert.equal(delta('m_flaky', 'retried'), 1);
      assert.equal(delta('m_flaky', 'done'), 1);
      assert.equal(delta('m_dead', 'failed'), 1);
      assert.equal(delta('m_dead', 'done'), 0);
    } finally {
      await consumer.stop();
      await publisher.close();
      await broker.close();
    }
  });
});
