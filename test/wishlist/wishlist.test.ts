import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct, insertUser } from '../helpers/fixtures.js';

forEachEngine('wishlist', (ctx) => {
  let t: TestApp;
  let category: number;

  before(async () => {
    t = await buildTestApp(ctx.db);
    category = await insertCategory(ctx.db, 'Wished things');
  });
  after(() => t.close());

  const customer = async () => t.tokenFor(await insertUser(ctx.db));
  const send = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, body?: object) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body ? { payload: body } : {}),
    });
  const ids = async (token: string, query = '') =>
    (await send('GET', `/api/wishlist/${query}`, token))
      .json()
      .items.map((i: { product_id: number }) => i.product_id);

  it('adds a product once: 201, then 200, and lists it with its summary', async () => {
    const token = await customer();
    const product = await insertProduct(ctx.db, { name: 'Kettle', price: '30.00', categoryId: category });
    const first = await send('POST', '/api/wishlist/items/', token, { product_id: product });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().product.name, 'Kettle');
    const again = await send('POST', '/api/wishlist/items/', token, { product_id: product });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(await ids(token), [product]);
    const listed = (await send('GET', '/api/wishlist/', token)).json();
    assert.equal(listed.items[0].product.price, '30.00');
    assert.equal(listed.next_cursor, null);
  });

  it('keeps each user’s wishlist private', async () => {
    const [a, b] = [await customer(), await customer()];
    const product = await insertProduct(ctx.db, { categoryId: category });
    await send('POST', '/api/wishlist/items/', a, { product_id: product });
    assert.deepEqual(await ids(b), []);
    assert.equal((await send('DELETE', `/api/wishlist/items/${product}/`, b)).statusCode, 404);
    assert.deepEqual(await ids(a), [product]);
  });

  it('removes a product with 204, then 404', async () => {
    const token = await customer();
    const product = await insertProduct(ctx.db, { categoryId: category });
    await send('POST', '/api/wishlist/items/', token, { product_id: product });
    assert.equal((await send('DELETE', `/api/wishlist/items/${product}/`, token)).statusCode, 204);
    assert.deepEqual(await ids(token), []);
    assert.equal((await send('DELETE', `/api/wishlist/items/${product}/`, token)).statusCode, 404);
  });

  it('drops a deleted product from the wishlist and refuses to add it', async () => {
    const token = await customer();
    const [kept, gone] = [
      await insertProduct(ctx.db, { categoryId: category }),
      await insertProduct(ctx.db, { categoryId: category }),
    ];
    await send('POST', '/api/wishlist/items/', token, { product_id: kept });
    await send('POST', '/api/wishlist/items/', token, { product_id: gone });
    await ctx.db.query('UPDATE products SET deleted_at = now() WHERE id = $1', [gone]);
    assert.deepEqual(await ids(token), [kept]);
    const res = await send('POST', '/api/wishlist/items/', await customer(), { product_id: gone });
    assert.equal(res.statusCode, 400, res.body);
  });

  it('refuses bad input with 400 and stores nothing', async () => {
    const token = await customer();
    for (const body of [
      { product_id: 99_999_999 },
      { product_id: '1' },
      { product_id: 0 },
      {},
      { product_id: 1, x: 1 },
    ]) {
      const res = await send('POST', '/api/wishlist/items/', token, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
    }
    assert.deepEqual(await ids(token), []);
    assert.equal((await send('GET', '/api/wishlist/?limit=1000', token)).statusCode, 400);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/wishlist/' })).statusCode, 401);
  });

  it('pages the wishlist newest first, each item once, in a fixed number of queries', async () => {
    const token = await customer();
    const added: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const product = await insertProduct(ctx.db, { categoryId: category });
      await send('POST', '/api/wishlist/items/', token, { product_id: product });
      added.push(product);
    }
    const seen: number[] = [];
    let query = '?limit=3';
    for (;;) {
      const start = ctx.db.stats.queries;
      const body = (await send('GET', `/api/wishlist/${query}`, token)).json();
      assert.ok(ctx.db.stats.queries - start <= 2);
      seen.push(...body.items.map((i: { product_id: number }) => i.product_id));
      if (body.next_cursor === null) break;
      query = `?limit=3&cursor=${body.next_cursor}`;
    }
    assert.deepEqual(seen, added.reverse());
  });
});
