import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Queryable } from '../../src/platform/db/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct, insertUser } from '../helpers/fixtures.js';

interface Line {
  productId: number;
  quantity: number;
  price: string;
}

/** An order with its lines, written straight to the tables; the total is summed in SQL, exactly. */
async function insertOrder(db: Queryable, userId: number, status: string, daysAgo: number, lines: Line[]) {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO orders (user_id, order_status, total_amount, created_at)
     VALUES ($1, $2, 0, now() - make_interval(days => $3::int)) RETURNING id`,
    [userId, status, daysAgo],
  );
  const orderId = (rows[0] as { id: number }).id;
  for (const line of lines) {
    await db.query(
      'INSERT INTO order_items (order_id, product_id, quantity, price) VALUES ($1, $2, $3, $4)',
      [orderId, line.productId, line.quantity, line.price],
    );
  }
  await db.query(
    'UPDATE orders SET total_amount = (SELECT sum(price * quantity) FROM order_items WHERE order_id = $1) WHERE id = $1',
    [orderId],
  );
}

forEachEngine('manager stats', (ctx) => {
  let t: TestApp;
  let manager: string;
  let customer: string;
  const ids = { lamp: 0, kettle: 0, vase: 0 };

  before(async () => {
    t = await buildTestApp(ctx.db);
    const category = await insertCategory(ctx.db, 'Home');
    ids.lamp = await insertProduct(ctx.db, { name: 'Lamp', price: '19.99', stock: 50, categoryId: category });
    ids.kettle = await insertProduct(ctx.db, {
      name: 'Kettle',
      price: '0.10',
      stock: 3,
      categoryId: category,
    });
    ids.vase = await insertProduct(ctx.db, { name: 'Vase', price: '5.00', stock: 0, categoryId: category });
    const buyer = await insertUser(ctx.db);
    manager = t.tokenFor(await insertUser(ctx.db, 'manager'));
    customer = t.tokenFor(buyer);
    // Today a paid and a shipped order, three days ago a delivered one. A canceled and a pending order never
    // count, and neither does a paid order older than the window.
    await insertOrder(ctx.db, buyer.id, 'paid', 0, [{ productId: ids.lamp, quantity: 2, price: '19.99' }]);
    await insertOrder(ctx.db, buyer.id, 'shipped', 0, [
      { productId: ids.kettle, quantity: 3, price: '0.10' },
    ]);
    await insertOrder(ctx.db, buyer.id, 'delivered', 3, [
      { productId: ids.kettle, quantity: 1, price: '0.10' },
    ]);
    await insertOrder(ctx.db, buyer.id, 'canceled', 0, [{ productId: ids.vase, quantity: 9, price: '5.00' }]);
    await insertOrder(ctx.db, buyer.id, 'pending', 1, [{ productId: ids.vase, quantity: 9, price: '5.00' }]);
    await insertOrder(ctx.db, buyer.id, 'paid', 40, [{ productId: ids.vase, quantity: 1, price: '5.00' }]);
  });
  after(() => t.close());

  const stats = (query: string, token = manager) =>
    t.app.inject({
      method: 'GET',
      url: `/api/admin/stats/${query}`,
      headers: { authorization: `Bearer ${token}` },
    });

  it('sums paid, shipped and delivered orders per UTC day, exactly, with empty days as zeros', async () => {
    const res = await stats('?days=7');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.sales_by_day.length, 7);
    const today = body.sales_by_day.at(-1);
    assert.equal(today.day, new Date().toISOString().slice(0, 10));
    assert.deepEqual({ orders: today.orders, revenue: today.revenue }, { orders: 2, revenue: '40.28' });
    assert.deepEqual(
      { orders: body.sales_by_day[3].orders, revenue: body.sales_by_day[3].revenue },
      { orders: 1, revenue: '0.10' },
    );
    assert.equal(body.sales_by_day[5].revenue, '0.00');
    assert.deepEqual(body.totals, { orders: 3, revenue: '40.38' });
  });

  it('ranks the top products by revenue within the window', async () => {
    const body = (await stats('?days=30&top=5')).json();
    assert.deepEqual(body.top_products, [
      { product_id: ids.lamp, name: 'Lamp', quantity: 2, revenue: '39.98' },
      { product_id: ids.kettle, name: 'Kettle', quantity: 4, revenue: '0.40' },
    ]);
  });

  it('lists live products at or below the low-stock threshold, emptiest first', async () => {
    const body = (await stats('?low_stock_threshold=3')).json();
    assert.deepEqual(
      body.low_stock.map((p: { id: number; stock_quantity: number }) => [p.id, p.stock_quantity]),
      [
        [ids.vase, 0],
        [ids.kettle, 3],
      ],
    );
  });

  it('answers 401 without a token and 403 to a customer', async () => {
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/admin/stats/' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal((await stats('', customer)).statusCode, 403);
  });

  it('rejects a window outside 1..366 days and unknown parameters with a 400', async () => {
    for (const query of ['?days=0', '?days=367', '?days=abc', '?top=0', '?color=red']) {
      const res = await stats(query);
      assert.equal(res.statusCode, 400, query);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    }
  });

  it('documents the endpoint in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.ok(doc.paths['/api/admin/stats/']?.get, Object.keys(doc.paths).join(', '));
  });
});
