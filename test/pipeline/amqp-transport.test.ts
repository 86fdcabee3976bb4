import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type Broker, openBroker } from '../../src/platform/jobs/amqp/broker.js';
import { createConsumer, type JobHandler } from '../../src/platform/jobs/amqp/consumer.js';
import { replayDeadJobs } from '../../src/platform/jobs/amqp/dead-letters.js';
import { createPublisher, type Publisher } from '../../src/platform/jobs/amqp/publisher.js';
import { queuesOf } from '../../src/platform/jobs/amqp/topology.js';
import { PermanentJobError } from '../../src/platform/jobs/registry.js';
import { requireService } from '../helpers/engines.js';
import { closeConnectionsNamed, deleteQueues, drainQueue, uniquePrefix, waitFor } from './amqp-helpers.js';

const url = requireService('TEST_AMQP_URL');
const logger = pino({ level: 'silent' });
const DELAYS = [100, 300];

describe('RabbitMQ job transport', { skip: url ? false : 'TEST_AMQP_URL is not set' }, () => {
  const prefix = uniquePrefix('transport');
  const types = ['ok', 'flaky', 'poison', 'permanent', 'dropped'];
  let publisherBroker: Broker;
  let publisher: Publisher;

  before(async () => {
    publisherBroker = await openBroker({ url: url as string, logger, name: `${prefix}-publisher` });
    publisher = createPublisher({ broker: publisherBroker, prefix });
  });

  after(async () => {
    await publisher.close();
    await publisherBroker.close();
    await deleteQueues(url as string, prefix, types, DELAYS);
  });

  async function consume(handlers: Record<string, JobHandler>, name: string) {
    const broker = await openBroker({ url: url as string, logger, name });
    const consumer = createConsumer({
      broker,
      prefix,
      handlers: new Map(Object.entries(handlers)),
      logger,
      prefetch: 10,
      retryDelaysMs: DELAYS,
      maxAttempts: 3,
    });
    await consumer.start();
    return {
      stop: async () => {
        await consumer.stop();
        await broker.close();
      },
    };
  }

  it('delivers every confirmed job to its handler once and leaves the work queue empty', async () => {
    const seen: number[] = [];
    const worker = await consume({ ok: async (_, job) => void seen.push(job.id) }, `${prefix}-c1`);
    try {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => publisher.publish({ id: i + 1, type: 'ok', payload: { i } })),
      );
      await waitFor(() => seen.length >= 200, 10_000, '200 jobs');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
    } finally {
      await worker.stop();
    }
    const left = await drainQueue(url as string, queuesOf(prefix, 'ok').work);
    assert.equal(left.length, 0, 'every job was acked');
  });

  it('retries a failing job after growing delays and then runs it to success', async () => {
    const attempts: { attempt: number; at: number }[] = [];
    const worker = await consume(
      {
        flaky: async (_, job) => {
          attempts.push({ attempt: job.attempt, at: Date.now() });
          if (job.attempt < 3) throw new Error('transient failure');
        },
      },
      `${prefix}-c2`,
    );
    try {
      await publisher.publish({ id: 1, type: 'flaky', payload: {} });
      await waitFor(() => attempts.length >= 3, 10_000, 'three attempts');
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await worker.stop();
    }
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      [1, 2, 3],
    );
    const [first, second, third] = attempts.map((a) => a.at) as [number, number, number];
    assert.ok(second - first >= 90, `first retry waited ${second - first} ms (>= 100)`);
    assert.ok(third - second >= 290, `second retry waited ${third - second} ms (>= 300)`);
    assert.equal((await drainQueue(url as string, queuesOf(prefix, 'flaky').dead)).length, 0);
  });

  it('dead-letters a poison job after 3 attempts while the other jobs keep flowing', async () => {
    const done: number[] = [];
    let poisonRuns = 0;
    const worker = await consume(
      {
        poison: async (payload, job) => {
          if ((payload as { poison?: boolean }).poison) {
            poisonRuns += 1;
            throw new Error('cannot process this one');
          }
          done.push(job.id);
        },
      },
      `${prefix}-c3`,
    );
    try {
      await publisher.publish({ id: 1000, type: 'poison', payload: { poison: true } });
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => publisher.publish({ id: i + 1, type: 'poison', payload: {} })),
      );
      await waitFor(() => done.length === 50, 10_000, 'the healthy jobs');
      assert.ok(poisonRuns < 3, 'the healthy jobs finished before the poison job ran out of attempts');
      await waitFor(() => poisonRuns === 3, 10_000, 'three poison attempts');
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await worker.stop();
    }
    const dead = await drainQueue(url as string, queuesOf(prefix, 'poison').dead);
    assert.equal(dead.length, 1);
    assert.deepEqual(dead[0]?.body, { id: 1000, type: 'poison', payload: { poison: true } });
    assert.equal(dead[0]?.headers['x-attempts'], 3);
    assert.equal(dead[0]?.headers['x-last-error'], 'cannot process this one');
    assert.equal(poisonRuns, 3);
  });

  it('sends a job that fails permanently straight to the dead queue, from where it can be replayed', async () => {
    let runs = 0;
    let fixed = false;
    const worker = await consume(
      {
        permanent: async () => {
          runs += 1;
          if (!fixed) throw new PermanentJobError('payload names no image');
        },
      },
      `${prefix}-c4`,
    );
    try {
      await publisher.publish({ id: 7, type: 'permanent', payload: {} });
      await waitFor(async () => runs === 1, 5_000, 'one run');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(runs, 1, 'no retry');
      fixed = true;
      const replayed = await replayDeadJobs({ broker: publisherBroker, prefix, types: ['permanent'] });
      assert.deepEqual([...replayed], [['permanent', 1]]);
      await waitFor(async () => runs === 2, 5_000, 'the replayed run');
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await worker.stop();
    }
    assert.equal((await drainQueue(url as string, queuesOf(prefix, 'permanent').dead)).length, 0);
  });

  it('redelivers an unacknowledged job after the broker drops the connection, and resubscribes', async () => {
    const runs: number[] = [];
    let release: () => void = () => {};
    const firstRunHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = await consume(
      {
        dropped: async (_, job) => {
          runs.push(job.id);
          if (runs.length === 1) await firstRunHeld;
        },
      },
      `${prefix}-c5`,
    );
    try {
      await publisher.publish({ id: 1, type: 'dropped', payload: {} });
      await waitFor(() => runs.length === 1, 5_000, 'the first run');
      assert.ok((await closeConnectionsNamed(`${prefix}-c5`)) >= 1);
      await closeConnectionsNamed(`${prefix}-publisher`);
      release();
      await waitFor(() => runs.length === 2, 15_000, 'the redelivery');
      await publisher.publish({ id: 2, type: 'dropped', payload: {} });
      await waitFor(() => runs.includes(2), 15_000, 'a job published after the drop');
    } finally {
      await worker.stop();
    }
    assert.deepEqual(runs, [1, 1, 2]);
  });
});
