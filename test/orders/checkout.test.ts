import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { addToCart, checkout, newKey, newShopper, stockOf } from './shop.js';

forEachEngine('checkout', (ctx) => {
  let t: TestApp;
  let categoryId: number;
  const product = (price: string, stock: number, name = 'Thing') =>
    insertProduct(ctx.db, { name, price, stock, categoryId });
  const count = async (table: string) =>
    (await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n;

  before(async () => {
    t = await buildTestApp(ctx.db);
    categoryId = await insertCategory(ctx.db, 'Checkout');
  });
  after(() => t.close());

  it('turns the cart into a pending order at current prices, takes the stock, empties the cart and queues the capture', async () => {
    const shopper = await newShopper(t, ctx.db);
    const a = await product('19.99', 10, 'Lamp');
    const b = await product('0.10', 5, 'Clip');
    await addToCart(t, shopper, a, 3);
    await addToCart(t, shopper, b, 3);
    await ctx.db.query(`UPDATE products SET price = '21.00' WHERE id = $1`, [a]);

    const res = await checkout(t, shopper);
    assert.equal(res.statusCode, 201, res.body);
    const order = res.json();
    assert.equal(order.order_status, 'pending');
    assert.equal(order.user_id, shopper.id);
    assert.equal(order.total_amount, '63.30');
    assert.deepEqual(
      order.items.map(
        (item: { product_name: string; quantity: number; price: string; line_total: string }) => [
          item.product_name,
          item.quantity,
          item.price,
          item.line_total,
        ],
      ),
      [
        ['Lamp', 3, '21.00', '63.00'],
        ['Clip', 3, '0.10', '0.30'],
      ],
    );
    assert.deepEqual(
      { ...order.payment, id: 0 },
      { id: 0, status: 'pending', amount: '63.30', payment_method: 'card' },
    );
    assert.equal(await stockOf(ctx.db, a), 7);
    assert.equal(await stockOf(ctx.db, b), 2);
    const cart = (await t.app.inject({ method: 'GET', url: '/api/cart/', headers: shopper.auth })).json();
    assert.deepEqual(cart.items, []);
    const { rows } = await ctx.db.query<{ payload: { order_id: number } }>(
      `SELECT payload FROM outbox_jobs WHERE type = 'payment.capture' AND payload->>'order_id' = $1`,
      [String(order.id)],
    );
    assert.equal(rows.length, 1);
  });

  it('keeps totals exact to the cent for large quantities', async () => {
    const shopper = await newShopper(t, ctx.db);
    const a = await product('99999.99', 5_000);
    const b = await product('0.01', 5_000);
    await addToCart(t, shopper, a, 999);
    await addToCart(t, shopper, b, 999);
    const res = await checkout(t, shopper);
    assert.equal(res.statusCode, 201, res.body);
    // 99999.99 x 999 = 99899990.01; + 9.99
    assert.equal(res.json().total_amount, '99900000.00');
  });

  it('answers an empty cart with a 400', async () => {
    const shopper = await newShopper(t, ctx.db);
    const res = await checkout(t, shopper);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().type, '/problems/empty-cart');
  });

  it('answers short stock with a 409 naming each short product, and changes nothing', async () => {
    const shopper = await newShopper(t, ctx.db);
    const plenty = await product('5.00', 10);
    const scarce = await product('7.00', 1, 'Scarce');
    const gone = await product('9.00', 4, 'Gone');
    await addToCart(t, shopper, plenty, 2);
    await addToCart(t, shopper, scarce, 3);
    await addToCart(t, shopper, gone, 1);
    await ctx.db.query('UPDATE products SET deleted_at = now() WHERE id = $1', [gone]);
    const orders = await count('orders');

    const res = await checkout(t, shopper);
    assert.equal(res.statusCode, 409);
    const problem = res.json();
    assert.equal(problem.type, '/problems/insufficient-stock');
    assert.deepEqual(
      problem.errors.map((e: { product_id: number; requested: number; available: number }) => [
        e.product_id,
        e.requested,
        e.available,
      ]),
      [
        [scarce, 3, 1],
        [gone, 1, 0],
      ],
    );
    assert.equal(await count('orders'), orders);
    assert.equal(await stockOf(ctx.db, plenty), 10);
    assert.equal(await stockOf(ctx.db, scarce), 1);
    const cart = (await t.app.inject({ method: 'GET', url: '/api/cart/', headers: shopper.auth })).json();
    assert.equal(cart.items.length, 3);
  });

  it('replays the first answer for the same key, and refuses the key with another body', async () => {
    const shopper = await newShopper(t, ctx.db);
    const p = await product('12.50', 10);
    await addToCart(t, shopper, p, 2);
    const key = newKey();
    const first = await checkout(t, shopper, 'tok_visa', key);
    assert.equal(first.statusCode, 201);
    await addToCart(t, shopper, p, 1);
    const again = await checkout(t, shopper, 'tok_visa', key);
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body, first.body);
    assert.equal(await stockOf(ctx.db, p), 8);

    const other = await checkout(t, shopper, 'tok_flaky', key);
    assert.equal(other.statusCode, 409);
    assert.equal(other.json().type, '/problems/idempotency-mismatch');

    // A 4xx outcome is stored too: the same key keeps answering 400 for the cart that was empty.
    const emptyKey = newKey();
    const stranger = await newShopper(t, ctx.db);
    assert.equal((await checkout(t, stranger, 'tok_visa', emptyKey)).statusCode, 400);
    await addToCart(t, stranger, p, 1);
    const replayed = await checkout(t, stranger, 'tok_visa', emptyKey);
    assert.equal(replayed.statusCode, 400);
    assert.equal(replayed.headers['content-type'], 'application/problem+json; charset=utf-8');
    // Keys are per user: another shopper's identical key is a different request.
    const mine = await newShopper(t, ctx.db);
    await addToCart(t, mine, p, 1);
    assert.equal((await checkout(t, mine, 'tok_visa', key)).statusCode, 201);
  });

  it('refuses a missing or malformed key, a bad body and extra fields with a 400, changing nothing', async () => {
    const shopper = await newShopper(t, ctx.db);
    const p = await product('3.00', 10);
    await addToCart(t, shopper, p, 1);
    const orders = await count('orders');
    const post = (headers: Record<string, string>, payload: Record<string, unknown>) =>
      t.app.inject({
        method: 'POST',
        url: '/api/orders/',
        headers: { ...shopper.auth, ...headers },
        payload,
      });
    const good = { payment_method: 'card', payment_token: 'tok_visa' };
    for (const [headers, payload] of [
      [{}, good],
      [{ 'idempotency-key': '' }, good],
      [{ 'idempotency-key': 'has space' }, good],
      [{ 'idempotency-key': 'x'.repeat(256) }, good],
      [{ 'idempotency-key': newKey() }, { ...good, extra: 1 }],
      [{ 'idempotency-key': newKey() }, { ...good, payment_method: 'cash' }],
      [{ 'idempotency-key': newKey() }, { payment_method: 'card' }],
    ] as [Record<string, string>, Record<string, unknown>][]) {
      const res = await post(headers, payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(headers)} ${JSON.stringify(payload)}: ${res.body}`);
    }
    assert.equal(await count('orders'), orders);
    assert.equal(await stockOf(ctx.db, p), 10);
  });

  it('needs a signed-in customer', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/orders/',
      headers: { 'idempotency-key': newKey() },
      payload: { payment_method: 'card', payment_token: 'tok_visa' },
    });
    assert.equal(res.statusCode, 401);
  });
  it('shows the stock a checkout took and a cancel returned at once, through the product cache', async () => {
    const shopper = await newShopper(t, ctx.db);
    const id = await product('5.00', 9, 'Cached');
    const stockShown = async () =>
      (await t.app.inject({ method: 'GET', url: `/api/products/${id}/` })).json().stock_quantity;
    assert.equal(await stockShown(), 9);
    assert.equal(await stockShown(), 9);
    await addToCart(t, shopper, id, 4);
    const placed = await checkout(t, shopper);
    assert.equal(placed.statusCode, 201, placed.body);
    assert.equal(await stockShown(), 5);
    const canceled = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${placed.json().id}/cancel/`,
      headers: shopper.auth,
    });
    assert.equal(canceled.statusCode, 200, canceled.body);
    assert.equal(await stockShown(), 9);
  });
});
