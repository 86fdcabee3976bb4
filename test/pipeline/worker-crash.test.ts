import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type Broker, openBroker } from '../../src/platform/jobs/amqp/broker.js';
import { DEFAULT_RETRY_DELAYS_MS } from '../../src/platform/jobs/amqp/consumer.js';
import { createPublisher, type Publisher } from '../../src/platform/jobs/amqp/publisher.js';
import { createOutboxRelay, type Relay } from '../../src/platform/jobs/amqp/relay.js';
import { enqueue } from '../../src/platform/jobs/outbox.js';
import { MAIL_JOB } from '../../src/platform/mail/mail-job.js';
import { exitOf, startCli, waitForOutput } from '../helpers/cli.js';
import { openTestDatabase, requireService, type TestDatabase } from '../helpers/engines.js';
import { deleteQueues, uniquePrefix, waitFor } from './amqp-helpers.js';
import { startSmtpSink } from './smtp-sink.js';

const amqpUrl = requireService('TEST_AMQP_URL');
const pgUrl = requireService('TEST_DATABASE_URL');
const logger = pino({ level: 'silent' });

// A separate worker process needs a database it can share, so this runs on PostgreSQL only (embedded mode
// has no worker processes: its jobs run inside `serve`).
describe('bazaar worker killed with SIGKILL in the middle of a job [postgres]', {
  skip: amqpUrl && pgUrl ? false : 'needs TEST_AMQP_URL and TEST_DATABASE_URL',
}, () => {
  const prefix = uniquePrefix('crash');
  let database: TestDatabase;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let broker: Broker;
  let publisher: Publisher;
  let relay: Relay;

  before(async () => {
    database = await openTestDatabase('postgres');
    sink = await startSmtpSink();
    broker = await openBroker({ url: amqpUrl as string, logger, name: `${prefix}-relay` });
    publisher = createPublisher({ broker, prefix });
    relay = createOutboxRelay({ db: database.db, publisher, logger });
    await relay.start();
  });

  after(async () => {
    await relay.stop();
    await publisher.close();
    await broker.close();
    await sink.close();
    await deleteQueues(amqpUrl as string, prefix, [MAIL_JOB, 'image.thumbnail'], DEFAULT_RETRY_DELAYS_MS);
    await database.drop();
  });

  const startWorker = async () => {
    const child = startCli(['worker'], {
      DATABASE_URL: database.url as string,
      JWT_SECRET: 'a-test-secret-that-is-at-least-32-characters',
      AMQP_URL: amqpUrl as string,
      AMQP_QUEUE_PREFIX: prefix,
      SMTP_URL: sink.url,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bazaar-worker-')),
    });
    await waitForOutput(child, /worker is consuming jobs/);
    return child;
  };

  it('sends the mail exactly once after a new worker takes over', async () => {
    const first = await startWorker();
    sink.hold();
    await database.db.transaction((tx) =>
      enqueue(tx, MAIL_JOB, {
        key: 'order-1-confirmed',
        to: 'dana@example.com',
        subject: 'Order #1 confirmed',
        text: 'Thank you',
      }),
    );
    await waitFor(() => sink.isHolding(), 20_000, 'the worker to be in the middle of sending');
    first.kill('SIGKILL');
    assert.equal(await exitOf(first), null);
    assert.equal(sink.received.length, 0, 'the killed worker sent nothing');

    const second = await startWorker();
    try {
      await waitFor(() => sink.received.length === 1, 20_000, 'the mail from the new worker');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(sink.received.length, 1, 'exactly one mail');
      assert.deepEqual(sink.received[0]?.to, ['dana@example.com']);
      const { rows } = await database.db.query('SELECT key FROM sent_mails');
      assert.deepEqual(rows, [{ key: 'order-1-confirmed' }]);
    } finally {
      second.kill('SIGTERM');
      assert.equal(await exitOf(second), 0);
    }
  });
});
