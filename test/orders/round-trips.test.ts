import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Database, migrate } from '../../src/platform/db/index.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createPostgresDatabase, requireService } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { countingProxy } from '../helpers/wire.js';
import { addToCart, checkout, newShopper, stockOf } from './shop.js';

const adminUrl = requireService('TEST_DATABASE_URL');

/**
 * The checkout's round trips to PostgreSQL, counted on the wire (docs/db_optimization.md, "The checkout's
 * statements"): a proxy between the app and the server counts every message that waits for an answer. On
 * PGlite there is no wire; the checkout's behaviour on both engines is checkout.test.ts's.
 */
describe('checkout on PostgreSQL, counted on the wire', { skip: !adminUrl }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let db: Database;
  let t: TestApp;
  before(async () => {
    database = await createPostgresDatabase(adminUrl as string);
    proxy = await countingProxy(new URL(database.url));
    // One connection, so every checkout finds the statements the ones before it prepared.
    db = await openPostgres({ url: proxy.url, poolSize: 1 });
    await migrate(db);
    t = await buildTestApp(db);
  });
  after(async () => {
    await t?.close();
    await db?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('place an order in five round trips once its statements are prepared on the connection', async () => {
    const categoryId = await insertCategory(db, 'Wire');
    // A name that must survive being written as a literal: quotes, a backslash, a comma, braces.
    const lamp = await insertProduct(db, {
      name: `O'Neil's "lamp", \\ {big}`,
      price: '19.99',
      stock: 100,
      categoryId,
    });
    const clip = await insertProduct(db, { name: 'Clip', price: '0.10', stock: 100, categoryId });
    const shopper = await newShopper(t, db);
    const trips: number[] = [];
    const orders: { id: number; total_amount: string; items: { product_name: string }[] }[] = [];
    for (let round = 0; round < 3; round += 1) {
      await addToCart(t, shopper, lamp, 3);
      await addToCart(t, shopper, clip, 3);
      const before = proxy.roundTrips();
      const res = await checkout(t, shopper);
      trips.push(proxy.roundTrips() - before);
      assert.equal(res.statusCode, 201, res.body);
      orders.push(res.json());
    }
    // The first checkout prepares its statements one round trip each; then: BEGIN and the cart's lines; the
    // stock's lock; the decrement and the order; the payment, bound (it carries the payment token); the key and
    // COMMIT.
    assert.deepEqual(trips.slice(1), [5, 5]);
    // Values travel as literals in those messages, but never the payment token (a secret statement's, bound).
    assert.ok(proxy.queryTexts().some((text) => text.includes('EXECUTE') && text.includes('60.27')));
    assert.ok(!proxy.queryTexts().some((text) => text.includes('tok_visa')));
    for (const order of orders) {
      assert.equal(order.total_amount, '60.27');
      assert.deepEqual(
        order.items.map((item) => item.product_name),
        [`O'Neil's "lamp", \\ {big}`, 'Clip'],
      );
    }
    const { rows } = await db.query<{ id: number }>('SELECT order_id AS id FROM payments ORDER BY order_id');
    assert.deepEqual(
      rows.map((row) => row.id),
      orders.map((order) => order.id),
    );
    assert.equal(await stockOf(db, lamp), 91);
    assert.equal(await stockOf(db, clip), 91);
  });

  it("run an order's capture in five round trips and its confirmation mail in four", async () => {
    const categoryId = await insertCategory(db, 'Wire jobs');
    const product = await insertProduct(db, { name: 'Bulb', price: '2.50', stock: 100, categoryId });
    const shopper = await newShopper(t, db);
    /** Runs the order's job of this type as a runner would; the round trips it took. */
    const runJob = async (orderId: number, type: string) => {
      const { rows } = await db.query<{ id: number; payload: unknown }>(
        `SELECT id, payload FROM outbox_jobs WHERE type = $1 AND payload->>'order_id' = $2`,
        [type, String(orderId)],
      );
      const job = rows[0] as { id: number; payload: unknown };
      const before = proxy.roundTrips();
      await t.app.jobs.definition(type)?.run(job.payload, { id: job.id, attempt: 1 });
      return proxy.roundTrips() - before;
    };
    const trips: [number, number][] = [];
    for (let round = 0; round < 2; round += 1) {
      await addToCart(t, shopper, product, 1);
      const order = (await checkout(t, shopper)).json() as { id: number };
      trips.push([
        await runJob(order.id, 'payment.capture'),
        await runJob(order.id, 'order.confirmation_email'),
      ]);
      const { rows } = await db.query('SELECT order_status FROM orders WHERE id = $1', [order.id]);
      assert.deepEqual(rows, [{ order_status: 'paid' }]);
    }
    // Once prepared: the capture reads the payment and the order, then BEGIN and the order's lock; the payment
    // captured; the order paid and its mail job with COMMIT. The mail: the order, its buyer, the sent-mail check,
    // the sent-mail record. (Marking the jobs done travels with the runner's next claim: runner.test.ts.)
    assert.deepEqual(trips[1], [5, 4]);
  });
});
