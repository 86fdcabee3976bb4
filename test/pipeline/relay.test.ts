import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import pino from 'pino';
import { type Broker, openBroker } from '../../src/platform/jobs/amqp/broker.js';
import { type Consumer, createConsumer } from '../../src/platform/jobs/amqp/consumer.js';
import { createPublisher, type Publisher } from '../../src/platform/jobs/amqp/publisher.js';
import { createOutboxRelay, type Relay } from '../../src/platform/jobs/amqp/relay.js';
import { enqueue } from '../../src/platform/jobs/outbox.js';
import { forEachEngine, requireService } from '../helpers/engines.js';
import { deleteQueues, uniquePrefix, waitFor } from './amqp-helpers.js';

const url = requireService('TEST_AMQP_URL');
const logger = pino({ level: 'silent' });

if (url) {
  forEachEngine('outbox relay to RabbitMQ', (ctx) => {
    const prefix = uniquePrefix('relay');
    const seen: number[] = [];
    let broker: Broker;
    let publisher: Publisher;
    let consumer: Consumer;
    let relay: Relay;

    before(async () => {
      broker = await openBroker({ url, logger, name: `${prefix}-relay` });
      publisher = createPublisher({ broker, prefix });
      consumer = createConsumer({
        broker,
        prefix,
        logger,
        handlers: new Map([['relay.test', async (_payload, job) => void seen.push(job.id)]]),
      });
      await consumer.start();
      relay = createOutboxRelay({ db: ctx.db, publisher, logger, idleMs: 1_000 });
      await relay.start();
    });

    after(async () => {
      await relay.stop();
      await consumer.stop();
      await publisher.close();
      await broker.close();
      await deleteQueues(url, prefix, ['relay.test'], [1_000, 5_000, 30_000, 120_000, 600_000]);
    });

    const enqueueJobs = (count: number) =>
      ctx.db.transaction(async (tx) => {
        const ids: number[] = [];
        for (let i = 0; i < count; i += 1) ids.push(await enqueue(tx, 'relay.test', { i }));
        return ids;
      });

    it('publishes committed jobs and marks each row published once the broker confirmed it', async () => {
      const ids = await enqueueJobs(300);
      await waitFor(() => ids.every((id) => seen.includes(id)), 20_000, 'every job to be consumed');
      const { rows } = await ctx.db.query<{ status: string; count: number }>(
        `SELECT status, count(*)::int AS count FROM outbox_jobs WHERE id = ANY($1::bigint[]) GROUP BY status`,
        [ids],
      );
      assert.deepEqual(rows, [{ status: 'published', count: 300 }]);
    });

    it('never publishes the job of a rolled-back transaction', async () => {
      const before = seen.length;
      await assert.rejects(
        ctx.db.transaction(async (tx) => {
          await enqueue(tx, 'relay.test', { doomed: true });
          throw new Error('the order failed');
        }),
      );
      const [committed] = await enqueueJobs(1);
      await waitFor(() => seen.includes(committed as number), 10_000, 'the committed job');
      assert.equal(seen.length, before + 1);
    });

    it('is woken by NOTIFY: an idle relay publishes a new job at once, not at its next poll', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const started = Date.now();
      const [id] = await enqueueJobs(1);
      await waitFor(() => seen.includes(id as number), 5_000, 'the job');
      assert.ok(Date.now() - started < 900, `took ${Date.now() - started} ms`);
    });

    it('makes at most one query per second while idle', async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const queries = ctx.db.stats.queries;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const made = ctx.db.stats.queries - queries;
      assert.ok(made <= 3, `${made} queries in 3 s`);
      assert.ok(made >= 2, `${made} queries in 3 s: the relay still polls for due jobs`);
    });
  });
}
