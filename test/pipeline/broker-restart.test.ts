import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type Broker, openBroker } from '../../src/platform/jobs/amqp/broker.js';
import {
  type Consumer,
  createConsumer,
  DEFAULT_RETRY_DELAYS_MS,
} from '../../src/platform/jobs/amqp/consumer.js';
import { createPublisher, type Publisher } from '../../src/platform/jobs/amqp/publisher.js';
import { createOutboxRelay, type Relay } from '../../src/platform/jobs/amqp/relay.js';
import { enqueue } from '../../src/platform/jobs/outbox.js';
import { createJobRegistry } from '../../src/platform/jobs/registry.js';
import { MAIL_JOB, registerMailJob } from '../../src/platform/mail/mail-job.js';
import { createMailer, type Mailer } from '../../src/platform/mail/mailer.js';
import { engineNames, openTestDatabase, requireService, type TestDatabase } from '../helpers/engines.js';
import { deleteQueues, rabbitmqctl, uniquePrefix, waitFor } from './amqp-helpers.js';
import { startSmtpSink } from './smtp-sink.js';

const amqpUrl = requireService('TEST_AMQP_URL');
const logger = pino({ level: 'silent' });
const JOBS = 1_000;
const engine = engineNames().at(-1) ?? 'pglite';

// Restarts the shared local broker (stop_app/start_app): other suites' connections drop too and heal.
describe(`RabbitMQ restarted during a burst of ${JOBS} mail jobs [${engine}]`, {
  skip: amqpUrl ? false : 'TEST_AMQP_URL is not set',
}, () => {
  const prefix = uniquePrefix('restart');
  let database: TestDatabase;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let mailer: Mailer;
  let relayBroker: Broker;
  let workerBroker: Broker;
  let publisher: Publisher;
  let relay: Relay;
  let consumer: Consumer;

  before(async () => {
    database = await openTestDatabase(engine);
    sink = await startSmtpSink();
    mailer = createMailer({ smtpUrl: sink.url, from: 'shop@bazaar.test', dataDir: '/nonexistent' });
    relayBroker = await openBroker({ url: amqpUrl as string, logger, name: `${prefix}-relay` });
    workerBroker = await openBroker({ url: amqpUrl as string, logger, name: `${prefix}-worker` });
    publisher = createPublisher({ broker: relayBroker, prefix });
    const registry = createJobRegistry();
    registerMailJob(registry, { db: database.db, mailer });
    relay = createOutboxRelay({ db: database.db, publisher, logger, batchSize: 100 });
    consumer = createConsumer({
      broker: workerBroker,
      prefix,
      logger,
      handlers: new Map([[MAIL_JOB, (payload, job) => registry.definition(MAIL_JOB)!.run(payload, job)]]),
    });
    await consumer.start();
    await relay.start();
  });

  after(async () => {
    await relay.stop();
    await consumer.stop();
    await publisher.close();
    await relayBroker.close();
    await workerBroker.close();
    await mailer.close();
    await sink.close();
    await deleteQueues(amqpUrl as string, prefix, [MAIL_JOB], DEFAULT_RETRY_DELAYS_MS);
    await database.drop();
  });

  it('sends every mail exactly once and loses none', async () => {
    const burst = (async () => {
      for (let batch = 0; batch < JOBS / 50; batch += 1) {
        await database.db.transaction(async (tx) => {
          for (let i = 0; i < 50; i += 1) {
            const n = batch * 50 + i;
            await enqueue(tx, MAIL_JOB, {
              key: `order-${n}-confirmed`,
              to: `shopper${n}@example.com`,
              subject: `Order #${n} confirmed`,
              text: 'Thank you',
            });
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    await waitFor(() => sink.received.length >= 150, 30_000, 'the burst to be under way');
    try {
      await rabbitmqctl('stop_app');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    } finally {
      // Whatever happened above, the shared broker must be running again for everyone else.
      await rabbitmqctl('start_app').catch(() => rabbitmqctl('start_app'));
      await rabbitmqctl('await_startup');
    }
    await burst;
    await waitFor(() => sink.received.length >= JOBS, 90_000, `${JOBS} mails`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const recipients = sink.received.map((mail) => mail.to[0]);
    assert.equal(new Set(recipients).size, JOBS, 'every order got its mail');
    assert.equal(recipients.length, JOBS, 'no order got two');
    const { rows } = await database.db.query<{ status: string; count: number }>(
      'SELECT status, count(*)::int AS count FROM outbox_jobs GROUP BY status',
    );
    assert.deepEqual(rows, [{ status: 'published', count: JOBS }]);
  });
});
