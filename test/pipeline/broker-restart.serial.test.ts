import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { consumerHandlers } from '../../src/cli/worker.js';
import { type Broker, openBroker } from '../../src/platform/jobs/amqp/broker.js';
import {
  type Consumer,
  createConsumer,
  DEFAULT_RETRY_DELAYS_MS,
} from '../../src/platform/jobs/amqp/consumer.js';
import { createPublisher, type Publisher } from '../../src/platform/jobs/amqp/publisher.js';
import { createOutboxRelay, type Relay } from '../../src/platform/jobs/amqp/relay.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { engineNames, openTestDatabase, requireService, type TestDatabase } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { addToCart, checkout, newShopper } from '../orders/shop.js';
import { deleteQueues, rabbitmqctl, uniquePrefix, waitFor } from './amqp-helpers.js';

const amqpUrl = requireService('TEST_AMQP_URL');
const logger = pino({ level: 'silent' });
const ORDERS = 1_000;
const engine = engineNames().at(-1) ?? 'pglite';

// Restarts the shared local broker (stop_app/start_app): other suites' connections drop too and heal.
describe(`RabbitMQ restarted during a burst of ${ORDERS} orders [${engine}]`, {
  skip: amqpUrl ? false : 'TEST_AMQP_URL is not set',
}, () => {
  const prefix = uniquePrefix('restart');
  let database: TestDatabase;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let t: TestApp;
  let relayBroker: Broker;
  let workerBroker: Broker;
  let publisher: Publisher;
  let relay: Relay;
  let consumer: Consumer;

  before(async () => {
    database = await openTestDatabase(engine);
    sink = await startSmtpSink();
    // 1,000 shoppers place their orders from one test address: the per-address API limit is not under test.
    t = await buildTestApp(database.db, { env: { SMTP_URL: sink.url, RATE_LIMIT_FACTOR: '0' } });
    relayBroker = await openBroker({ url: amqpUrl as string, logger, name: `${prefix}-relay` });
    workerBroker = await openBroker({ url: amqpUrl as string, logger, name: `${prefix}-worker` });
    publisher = createPublisher({ broker: relayBroker, prefix });
    relay = createOutboxRelay({ db: database.db, publisher, logger, batchSize: 100 });
    consumer = createConsumer({ broker: workerBroker, prefix, logger, ...consumerHandlers(t.app.jobs) });
    await consumer.start();
    await relay.start();
  });

  after(async () => {
    await relay.stop();
    await consumer.stop();
    await publisher.close();
    await relayBroker.close();
    await workerBroker.close();
    await deleteQueues(amqpUrl as string, prefix, t.app.jobs.types(), DEFAULT_RETRY_DELAYS_MS);
    await t.close();
    await sink.close();
    await database.drop();
  });

  it('confirms every order with exactly one email and loses none', async () => {
    const productId = await insertProduct(database.db, {
      price: '9.99',
      stock: ORDERS,
      categoryId: await insertCategory(database.db, 'Burst'),
    });
    const orderIds: number[] = [];
    let next = 0;
    const burst = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ORDERS) {
          next += 1;
          const shopper = await newShopper(t, database.db);
          await addToCart(t, shopper, productId, 1);
          const placed = await checkout(t, shopper);
          assert.equal(placed.statusCode, 201, placed.body);
          orderIds.push(placed.json().id as number);
        }
      }),
    );

    await waitFor(() => sink.received.length >= 100, 60_000, 'the burst to be under way');
    try {
      await rabbitmqctl('stop_app');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    } finally {
      // Whatever happened above, the shared broker must be running again for everyone else.
      await rabbitmqctl('start_app').catch(() => rabbitmqctl('start_app'));
      await rabbitmqctl('await_startup');
    }
    await burst;
    await waitFor(() => sink.received.length >= ORDERS, 120_000, `${ORDERS} confirmations`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const confirmed = sink.received.map((mail) =>
      Number(/Subject: Order #(\d+) confirmed/.exec(mail.raw)?.[1]),
    );
    assert.equal(confirmed.length, ORDERS, 'no order got two');
    assert.deepEqual(
      [...confirmed].sort((a, b) => a - b),
      [...orderIds].sort((a, b) => a - b),
      'every order got its own',
    );
    const { rows } = await database.db.query<{ order_status: string; count: number }>(
      'SELECT order_status, count(*)::int AS count FROM orders GROUP BY order_status',
    );
    assert.deepEqual(rows, [{ order_status: 'paid', count: ORDERS }]);
    const pending = await database.db.query(`SELECT 1 FROM outbox_jobs WHERE status <> 'published'`);
    assert.equal(pending.rows.length, 0, 'every job reached the broker');
  });
});
