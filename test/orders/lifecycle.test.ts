import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import {
  addToCart,
  checkout,
  fastRunner,
  newShopper,
  orderState,
  type Shopper,
  stockOf,
  waitFor,
} from './shop.js';

forEachEngine('order life', (ctx) =>
  describe('orders', () => {
    let t: TestApp;
    let categoryId: number;
    let manager: Shopper;

    before(async () => {
      t = await buildTestApp(ctx.db);
      categoryId = await insertCategory(ctx.db, 'Life');
      manager = await newShopper(t, ctx.db, 'manager');
    });
    after(() => t.close());

    async function placeOrder(shopper: Shopper, stock = 10, quantity = 2) {
      const productId = await insertProduct(ctx.db, { price: '4.25', stock, categoryId });
      await addToCart(t, shopper, productId, quantity);
      const res = await checkout(t, shopper);
      assert.equal(res.statusCode, 201, res.body);
      return { order: res.json(), productId };
    }
    const get = (shopper: Shopper, url: string) =>
      t.app.inject({ method: 'GET', url, headers: shopper.auth });
    const setStatus = (shopper: Shopper, id: number, order_status: string) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/orders/${id}/`,
        headers: shopper.auth,
        payload: { order_status },
      });
    const cancel = (shopper: Shopper, id: number) =>
      t.app.inject({ method: 'POST', url: `/api/orders/${id}/cancel/`, headers: shopper.auth });

    it("shows an order to its owner and to managers, and answers another customer's with a 404", async () => {
      const owner = await newShopper(t, ctx.db);
      const other = await newShopper(t, ctx.db);
      const { order } = await placeOrder(owner);
      const mine = await get(owner, `/api/orders/${order.id}/`);
      assert.equal(mine.statusCode, 200);
      assert.equal(mine.json().payment.status, 'pending');
      assert.equal(mine.json().items[0].line_total, '8.50');
      assert.equal((await get(manager, `/api/orders/${order.id}`)).statusCode, 200);
      assert.equal((await get(other, `/api/orders/${order.id}/`)).statusCode, 404);
      assert.equal((await cancel(other, order.id)).statusCode, 404);
      assert.equal((await get(owner, '/api/orders/99999999/')).statusCode, 404);
      assert.equal((await get(owner, '/api/orders/0/')).statusCode, 400);
    });

    it('lists own orders newest first in keyset pages; managers see all and filter', async () => {
      const shopper = await newShopper(t, ctx.db);
      const ids: number[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await placeOrder(shopper)).order.id);
      await placeOrder(await newShopper(t, ctx.db));
      const seen: number[] = [];
      let url = '/api/orders/?limit=2';
      for (;;) {
        const page = await get(shopper, url);
        assert.equal(page.statusCode, 200);
        seen.push(...page.json().items.map((order: { id: number }) => order.id));
        if (page.json().next_cursor === null) break;
        url = `/api/orders/?limit=2&cursor=${page.json().next_cursor}`;
      }
      assert.deepEqual(seen, [...ids].reverse());

      // A customer's user_id filter cannot widen the view beyond their own orders.
      const widened = await get(shopper, `/api/orders/?user_id=${manager.id}`);
      assert.deepEqual(widened.json().items, []);
      const byUser = await get(manager, `/api/orders/?user_id=${shopper.id}&limit=100`);
      assert.equal(byUser.json().items.length, 5);
      const pending = await get(manager, '/api/orders/?status=pending&limit=100');
      assert.ok(pending.json().items.length >= 6);
      assert.equal((await get(manager, '/api/orders/?status=lost')).statusCode, 400);
      assert.equal((await get(manager, '/api/orders/?limit=0')).statusCode, 400);
      assert.equal((await get(manager, '/api/orders/?cursor=forged')).statusCode, 400);
    });

    it('lets a manager move a paid order to shipped then delivered, and nothing else', async () => {
      const shopper = await newShopper(t, ctx.db);
      const { order } = await placeOrder(shopper);
      assert.equal((await setStatus(manager, order.id, 'shipped')).statusCode, 409);
      const runner = await fastRunner(ctx.db, t.app.jobs);
      try {
        await waitFor('payment', async () => (await orderState(ctx.db, order.id)).order_status === 'paid');
      } finally {
        await runner.stop();
      }
      assert.equal((await setStatus(shopper, order.id, 'shipped')).statusCode, 403);
      assert.equal((await setStatus(manager, order.id, 'delivered')).statusCode, 409);
      assert.equal((await setStatus(manager, order.id, 'pending')).statusCode, 409);
      const shipped = await setStatus(manager, order.id, 'shipped');
      assert.equal(shipped.statusCode, 200);
      assert.equal(shipped.json().order_status, 'shipped');
      assert.equal((await cancel(shopper, order.id)).statusCode, 409);
      assert.equal((await setStatus(manager, order.id, 'delivered')).json().order_status, 'delivered');
      assert.equal((await setStatus(manager, order.id, 'canceled')).statusCode, 409);
      assert.equal((await setStatus(manager, order.id, 'bogus')).statusCode, 400);
    });

    it('cancels a pending order once: the stock returns once and the capture then charges nothing', async () => {
      const shopper = await newShopper(t, ctx.db);
      const { order, productId } = await placeOrder(shopper, 10, 3);
      assert.equal(await stockOf(ctx.db, productId), 7);
      const first = await cancel(shopper, order.id);
      assert.equal(first.statusCode, 200);
      assert.equal(first.json().order_status, 'canceled');
      const second = await cancel(shopper, order.id);
      assert.equal(second.statusCode, 409);
      assert.equal(second.json().type, '/problems/invalid-transition');
      assert.equal(await stockOf(ctx.db, productId), 10);
      const runner = await fastRunner(ctx.db, t.app.jobs);
      try {
        await waitFor('the capture to stand down', async () => {
          return (await orderState(ctx.db, order.id)).payment_status === 'failed';
        });
      } finally {
        await runner.stop();
      }
      assert.equal(await stockOf(ctx.db, productId), 10);
    });
  }),
);
