import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type Broker, openBroker } from '../../src/platform/jobs/amqp/broker.js';
import { DEFAULT_RETRY_DELAYS_MS } from '../../src/platform/jobs/amqp/consumer.js';
import { createPublisher, type Publisher } from '../../src/platform/jobs/amqp/publisher.js';
import { createOutboxRelay, type Relay } from '../../src/platform/jobs/amqp/relay.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { exitOf, startCli, waitForOutput } from '../helpers/cli.js';
import { openTestDatabase, requireService, type TestDatabase } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { scratchDir } from '../helpers/scratch.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { addToCart, checkout, newShopper, orderState } from '../orders/shop.js';
import { deleteQueues, uniquePrefix, waitFor } from './amqp-helpers.js';

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
  let t: TestApp;

  before(async () => {
    database = await openTestDatabase('postgres');
    t = await buildTestApp(database.db);
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
    await deleteQueues(amqpUrl as string, prefix, t.app.jobs.types(), DEFAULT_RETRY_DELAYS_MS);
    await t.close();
    await database.drop();
  });

  const startWorker = async () => {
    const child = startCli(['worker'], {
      DATABASE_URL: database.url as string,
      JWT_SECRET: 'a-test-secret-that-is-at-least-32-characters',
      AMQP_URL: amqpUrl as string,
      AMQP_QUEUE_PREFIX: prefix,
      SMTP_URL: sink.url,
      DATA_DIR: scratchDir('worker'),
    });
    await waitForOutput(child, /worker is consuming jobs/);
    return child;
  };

  it('captures the payment once and sends one confirmation after a new worker takes over', async () => {
    const first = await startWorker();
    sink.hold();
    const shopper = await newShopper(t, database.db);
    const categoryId = await insertCategory(database.db, 'Lamps');
    await addToCart(
      t,
      shopper,
      await insertProduct(database.db, { price: '15.00', stock: 5, categoryId }),
      1,
    );
    const placed = await checkout(t, shopper);
    assert.equal(placed.statusCode, 201, placed.body);
    const orderId = placed.json().id as number;

    // The capture ran; the worker is now inside the confirmation email, which the SMTP server holds.
    await waitFor(() => sink.isHolding(), 30_000, 'the worker to be in the middle of sending');
    first.kill('SIGKILL');
    assert.equal(await exitOf(first), null);
    assert.equal(sink.received.length, 0, 'the killed worker sent nothing');

    const second = await startWorker();
    try {
      await waitFor(() => sink.received.length === 1, 30_000, 'the mail from the new worker');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(sink.received.length, 1, 'exactly one mail');
      assert.match(sink.received[0]?.raw ?? '', new RegExp(`Subject: Order #${orderId} confirmed`));
      assert.deepEqual(await orderState(database.db, orderId), {
        order_status: 'paid',
        payment_status: 'succeeded',
      });
      const { rows } = await database.db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM payments WHERE order_id = $1 AND status = 'succeeded'`,
        [orderId],
      );
      assert.equal(rows[0]?.count, 1, 'one capture');
    } finally {
      second.kill('SIGTERM');
      assert.equal(await exitOf(second), 0);
    }
  });
});
