import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { addToCart, newShopper, type Shopper } from '../orders/shop.js';

forEachEngine('cart', (ctx) => {
  let t: TestApp;
  let categoryId: number;
  const product = (price: string, stock = 10) => insertProduct(ctx.db, { price, stock, categoryId });
  const getCart = async (shopper: Shopper) =>
    (await t.app.inject({ method: 'GET', url: '/api/cart/', headers: shopper.auth })).json();
  const send = (shopper: Shopper, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: shopper.auth,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  before(async () => {
    t = await buildTestApp(ctx.db);
    categoryId = await insertCategory(ctx.db, 'Cart');
  });
  after(() => t.close());

  it('starts empty, with a zero total', async () => {
    const cart = await getCart(await newShopper(t, ctx.db));
    assert.ok(Number.isInteger(cart.id));
    assert.deepEqual(cart.items, []);
    assert.equal(cart.total, '0.00');
  });

  it('adds a product and adds again to the same line, with exact line totals and total', async () => {
    const shopper = await newShopper(t, ctx.db);
    const dime = await product('0.10');
    const lamp = await product('19.99');
    const first = await addToCart(t, shopper, dime, 1);
    assert.equal(first.quantity, 1);
    const second = await addToCart(t, shopper, dime, 2);
    assert.equal(second.id, first.id);
    assert.equal(second.quantity, 3);
    assert.equal(second.line_total, '0.30');
    await addToCart(t, shopper, lamp, 3);
    const cart = await getCart(shopper);
    assert.deepEqual(
      cart.items.map((item: { product_id: number; quantity: number; line_total: string }) => [
        item.product_id,
        item.quantity,
        item.line_total,
      ]),
      [
        [dime, 3, '0.30'],
        [lamp, 3, '59.97'],
      ],
    );
    assert.equal(cart.total, '60.27');
    assert.equal(cart.items[1].product.price, '19.99');
  });

  it('shows current prices', async () => {
    const shopper = await newShopper(t, ctx.db);
    const p = await product('10.00');
    await addToCart(t, shopper, p, 2);
    await ctx.db.query(`UPDATE products SET price = '12.345' WHERE id = $1`, [p]);
    const cart = await getCart(shopper);
    assert.equal(cart.items[0].product.price, '12.35');
    assert.equal(cart.total, '24.70');
  });

  it('keeps large quantities exact', async () => {
    const shopper = await newShopper(t, ctx.db);
    const p = await product('9999999999.99');
    await addToCart(t, shopper, p, 999);
    assert.equal((await getCart(shopper)).total, '9989999999990.01');
  });

  it('refuses a line above 999 with a 409 and leaves it as it was', async () => {
    const shopper = await newShopper(t, ctx.db);
    const p = await product('1.00');
    await addToCart(t, shopper, p, 990);
    const res = await send(shopper, 'POST', '/api/cart/items/', { product_id: p, quantity: 10 });
    assert.equal(res.statusCode, 409);
    assert.equal((await getCart(shopper)).items[0].quantity, 990);
  });

  it('refuses bad input with a 400 and changes nothing', async () => {
    const shopper = await newShopper(t, ctx.db);
    const p = await product('1.00');
    const deleted = await product('1.00');
    await ctx.db.query('UPDATE products SET deleted_at = now() WHERE id = $1', [deleted]);
    for (const payload of [
      { product_id: p, quantity: 0 },
      { product_id: p, quantity: 10_000 },
      { product_id: p, quantity: 1.5 },
      { product_id: p, quantity: '1' },
      { product_id: p },
      { product_id: p, quantity: 1, extra: true },
      { product_id: 999_999, quantity: 1 },
      { product_id: deleted, quantity: 1 },
    ]) {
      const res = await send(shopper, 'POST', '/api/cart/items/', payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
    const item = await addToCart(t, shopper, p, 1);
    for (const payload of [{ quantity: 0 }, { quantity: 1000 }, { quantity: 2, extra: 1 }, {}]) {
      const res = await send(shopper, 'PATCH', `/api/cart/items/${item.id}/`, payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
    }
    assert.equal((await send(shopper, 'PATCH', '/api/cart/items/abc/', { quantity: 2 })).statusCode, 400);
    const cart = await getCart(shopper);
    assert.deepEqual(
      cart.items.map((line: { quantity: number }) => line.quantity),
      [1],
    );
  });

  it('changes and removes lines, and empties the cart', async () => {
    const shopper = await newShopper(t, ctx.db);
    const a = await addToCart(t, shopper, await product('2.50'), 1);
    const b = await addToCart(t, shopper, await product('4.00'), 1);
    const changed = await send(shopper, 'PATCH', `/api/cart/items/${a.id}`, { quantity: 4 });
    assert.equal(changed.statusCode, 200);
    assert.equal(changed.json().line_total, '10.00');
    assert.equal((await send(shopper, 'DELETE', `/api/cart/items/${b.id}/`)).statusCode, 204);
    assert.equal((await getCart(shopper)).total, '10.00');
    assert.equal((await send(shopper, 'DELETE', '/api/cart/')).statusCode, 204);
    assert.deepEqual((await getCart(shopper)).items, []);
  });

  it("answers another user's cart item with a 404 and leaves it alone", async () => {
    const owner = await newShopper(t, ctx.db);
    const other = await newShopper(t, ctx.db);
    const item = await addToCart(t, owner, await product('1.00'), 2);
    assert.equal(
      (await send(other, 'PATCH', `/api/cart/items/${item.id}/`, { quantity: 5 })).statusCode,
      404,
    );
    assert.equal((await send(other, 'DELETE', `/api/cart/items/${item.id}/`)).statusCode, 404);
    assert.equal((await send(other, 'DELETE', '/api/cart/items/999999/')).statusCode, 404);
    assert.equal((await getCart(owner)).items[0].quantity, 2);
  });

  it('needs a signed-in user', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/cart/' })).statusCode, 401);
  });
});
