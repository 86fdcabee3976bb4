import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createCatalogService } from '../../src/modules/catalog/service.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct, insertUser } from '../helpers/fixtures.js';

forEachEngine('catalog cache in one process (no Redis)', (ctx) => {
  let t: TestApp;
  let categoryId = 0;
  const catalog = () => createCatalogService({ db: ctx.db, cache: t.app.responseCache });
  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers });

  before(async () => {
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0' } });
    categoryId = await insertCategory(ctx.db, 'Kitchen');
  });
  after(() => t.close());

  it('answers 500 concurrent requests for a cold product with one database query', async () => {
    const id = await insertProduct(ctx.db, { name: 'Kettle', categoryId });
    const before = ctx.db.stats.queries;
    const answers = await Promise.all(Array.from({ length: 500 }, () => get(`/api/products/${id}/`)));
    assert.equal(ctx.db.stats.queries - before, 1);
    assert.ok(answers.every((res) => res.statusCode === 200 && res.json().name === 'Kettle'));
  });

  it('answers 500 concurrent requests for a cold list page with one database query', async () => {
    const before = ctx.db.stats.queries;
    const answers = await Promise.all(
      Array.from({ length: 500 }, () => get(`/api/products/?category_id=${categoryId}&sort=price`)),
    );
    // The category filter is one statement (a recursive CTE), whatever the tree's depth.
    assert.equal(ctx.db.stats.queries - before, 1);
    assert.ok(answers.every((res) => res.statusCode === 200));
  });

  it('sends a strong ETag and answers a matching If-None-Match with 304 and no body', async () => {
    const id = await insertProduct(ctx.db, { name: 'Toaster', categoryId });
    const first = await get(`/api/products/${id}/`);
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[A-Za-z0-9_-]{20,}"$/);
    assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
    const again = await get(`/api/products/${id}/`, { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.etag, etag);
    const weak = await get(`/api/products/${id}/`, { 'if-none-match': `"other", W/${etag}` });
    assert.equal(weak.statusCode, 304);
    const stale = await get(`/api/products/${id}/`, { 'if-none-match': '"other"' });
    assert.equal(stale.statusCode, 200);
    assert.equal(stale.body, first.body);
    for (const url of ['/api/products/', '/api/categories/', `/api/categories/${categoryId}/`]) {
      const res = await get(url);
      assert.ok(res.headers.etag, `${url} has an ETag`);
      assert.equal((await get(url, { 'if-none-match': String(res.headers.etag) })).statusCode, 304);
    }
  });

  it('marks anonymous catalog reads public and reads with credentials private', async () => {
    const anonymous = await get('/api/products/');
    assert.match(String(anonymous.headers['cache-control']), /^public, max-age=\d+$/);
    const token = t.tokenFor({ id: 1, role: 'customer' });
    const personal = await get('/api/products/', { authorization: `Bearer ${token}` });
    assert.equal(personal.statusCode, 200);
    assert.equal(personal.headers['cache-control'], 'private, no-cache');
    assert.equal(personal.body, anonymous.body);
  });

  it('keeps serving the cached product until the write is announced, then the new version', async () => {
    const id = await insertProduct(ctx.db, { name: 'Blender', price: '30.00', categoryId });
    assert.equal((await get(`/api/products/${id}/`)).json().price, '30.00');
    assert.equal((await get('/api/products/?limit=100')).json().items[0].price, '30.00');
    await ctx.db.query(`UPDATE products SET price = '35.50' WHERE id = $1`, [id]);
    assert.equal((await get(`/api/products/${id}/`)).json().price, '30.00', 'served from the cache');
    await catalog().invalidateProducts([id]);
    assert.equal((await get(`/api/products/${id}/`)).json().price, '35.50');
    assert.equal((await get('/api/products/?limit=100')).json().items[0].price, '35.50');
  });

  it('shows stock taken by an order on the detail at once and on list pages within a second', async () => {
    const id = await insertProduct(ctx.db, { name: 'Mixer', stock: 5, categoryId });
    const list = `/api/products/?category_id=${categoryId}&limit=100`;
    const inList = async () =>
      (await get(list)).json().items.find((item: { id: number }) => item.id === id).stock_quantity;
    assert.equal(await inList(), 5);
    await ctx.db.query('UPDATE products SET stock_quantity = 2 WHERE id = $1', [id]);
    await catalog().invalidateStock([id]);
    assert.equal((await get(`/api/products/${id}/`)).json().stock_quantity, 2);
    const started = Date.now();
    while ((await inList()) !== 2) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.ok(Date.now() - started <= 1_100, `list caught up after ${Date.now() - started} ms`);
  });

  it('shows a renamed category in categories and product details after invalidateCatalog', async () => {
    const id = await insertProduct(ctx.db, { name: 'Whisk', categoryId });
    assert.equal((await get(`/api/products/${id}/`)).json().category.name, 'Kitchen');
    await get('/api/categories/');
    await ctx.db.query(`UPDATE categories SET name = 'Cookware' WHERE id = $1`, [categoryId]);
    await catalog().invalidateCatalog();
    assert.equal((await get(`/api/products/${id}/`)).json().category.name, 'Cookware');
    const names = (await get('/api/categories/')).json().items.map((c: { name: string }) => c.name);
    assert.ok(names.includes('Cookware'));
    assert.equal((await get(`/api/categories/${categoryId}/`)).json().name, 'Cookware');
  });

  it('does not cache a missing product', async () => {
    const res = await get('/api/products/999999/');
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers.etag, undefined);
    const id = await insertProduct(ctx.db, { name: 'Late', categoryId });
    assert.equal((await get(`/api/products/${id}/`)).statusCode, 200);
  });
});

forEachEngine('catalog writes invalidate the cache', (ctx) => {
  let t: TestApp;
  let categoryId = 0;
  let manager = '';
  const get = (url: string) => t.app.inject({ method: 'GET', url });

  before(async () => {
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0' } });
    categoryId = await insertCategory(ctx.db, 'Bikes');
    manager = `Bearer ${t.tokenFor(await insertUser(ctx.db, 'manager'))}`;
  });
  after(() => t.close());

  it('shows a product edited through the API at once, in its detail and in lists', async () => {
    const id = await insertProduct(ctx.db, { name: 'Road bike', price: '900.00', categoryId });
    assert.equal((await get(`/api/products/${id}/`)).json().price, '900.00');
    await get(`/api/products/?category_id=${categoryId}`);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/products/${id}/`,
      headers: { authorization: manager },
      payload: { price: '850.00' },
    });
    assert.equal(patch.statusCode, 200);
    assert.equal((await get(`/api/products/${id}/`)).json().price, '850.00');
    assert.equal((await get(`/api/products/?category_id=${categoryId}`)).json().items[0].price, '850.00');
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/products/${id}/`,
      headers: { authorization: manager },
    });
    assert.equal(removed.statusCode, 204);
    assert.equal((await get(`/api/products/${id}/`)).statusCode, 404);
    assert.deepEqual((await get(`/api/products/?category_id=${categoryId}`)).json().items, []);
  });

  it('shows a new review in the cached rating at once', async () => {
    const id = await insertProduct(ctx.db, { name: 'Gravel bike', categoryId });
    assert.deepEqual((await get(`/api/products/${id}/`)).json().rating, { average: 0, count: 0 });
    const shopper = `Bearer ${t.tokenFor(await insertUser(ctx.db))}`;
    const review = await t.app.inject({
      method: 'POST',
      url: `/api/products/${id}/reviews/`,
      headers: { authorization: shopper },
      payload: { rating: 4, comment: 'Smooth' },
    });
    assert.equal(review.statusCode, 201);
    assert.deepEqual((await get(`/api/products/${id}/`)).json().rating, { average: 4, count: 1 });
  });

  it('shows a renamed category in cached product details at once', async () => {
    const id = await insertProduct(ctx.db, { name: 'City bike', categoryId });
    assert.equal((await get(`/api/products/${id}/`)).json().category.name, 'Bikes');
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/categories/${categoryId}/`,
      headers: { authorization: manager },
      payload: { name: 'Bicycles' },
    });
    assert.equal(patch.statusCode, 200);
    assert.equal((await get(`/api/products/${id}/`)).json().category.name, 'Bicycles');
  });
});
