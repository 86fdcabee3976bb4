import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';

forEachEngine('catalog read slice', (ctx) => {
  let t: TestApp;
  const ids = { root: 0, audio: 0, headphones: 0, garden: 0, speaker: 0, trowel: 0 };

  before(async () => {
    t = await buildTestApp(ctx.db);
    ids.root = await insertCategory(ctx.db, 'Electronics');
    ids.audio = await insertCategory(ctx.db, 'Audio', ids.root);
    ids.headphones = await insertCategory(ctx.db, 'Headphones', ids.audio);
    ids.garden = await insertCategory(ctx.db, 'Garden');
    // 45 products in the deepest category, many sharing a price and a creation time, to test tie-breaks.
    for (let i = 0; i < 45; i += 1) {
      await insertProduct(ctx.db, {
        name: `Headphones ${String(i % 5)}`,
        price: i % 3 === 0 ? '19.99' : `${10 + i}.50`,
        categoryId: ids.headphones,
        createdAt:
          i % 4 === 0 ? '2026-01-01T00:00:00.123456Z' : `2026-02-01T00:00:${String(i).padStart(2, '0')}Z`,
      });
    }
    ids.speaker = await insertProduct(ctx.db, { name: 'Speaker', categoryId: ids.audio, price: '99.00' });
    ids.trowel = await insertProduct(ctx.db, { name: 'Trowel', categoryId: ids.garden, price: '5.25' });
  });
  after(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers });

  it('lists every category with its parent', async () => {
    const res = await get('/api/categories/');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.next_cursor, null);
    const audio = body.items.find((c: { id: number }) => c.id === ids.audio);
    assert.equal(audio.parent_id, ids.root);
  });

  it('shows a category with its children and its path from the root', async () => {
    const body = (await get(`/api/categories/${ids.headphones}/`)).json();
    assert.deepEqual(
      body.path.map((c: { name: string }) => c.name),
      ['Electronics', 'Audio', 'Headphones'],
    );
    assert.deepEqual(body.children, []);
    const audio = (await get(`/api/categories/${ids.audio}`)).json();
    assert.deepEqual(audio.children, [{ id: ids.headphones, name: 'Headphones' }]);
  });

  it('filters by a category and every category below it', async () => {
    const collect = async (categoryId: number) => {
      const res = await get(`/api/products/?category_id=${categoryId}&limit=100`);
      assert.equal(res.statusCode, 200);
      return res.json().items.map((p: { id: number }) => p.id);
    };
    assert.equal((await collect(ids.root)).length, 46);
    assert.equal((await collect(ids.audio)).length, 46);
    assert.equal((await collect(ids.headphones)).length, 45);
    assert.deepEqual(await collect(ids.garden), [ids.trowel]);
  });

  for (const sort of ['created_at', '-created_at', 'price', '-price', 'name', '-name', '-rating']) {
    it(`walks every page of sort ${sort} and returns each product exactly once`, async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `/api/products/?sort=${sort}&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await get(query);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        seen.push(...body.items.map((p: { id: number }) => p.id));
        cursor = body.next_cursor;
        pages += 1;
      } while (cursor !== null && pages < 50);
      assert.equal(seen.length, 47);
      assert.equal(new Set(seen).size, 47);
    });
  }

  it('orders by price with the id as tie-break', async () => {
    const items = (await get('/api/products/?sort=price&limit=100')).json().items as {
      id: number;
      price: string;
    }[];
    for (let i = 1; i < items.length; i += 1) {
      const [a, b] = [items[i - 1]!, items[i]!];
      assert.ok(
        Number(a.price) < Number(b.price) || (a.price === b.price && a.id < b.id),
        `${a.id} before ${b.id}`,
      );
    }
  });

  it('shows a product with its category, images and rating', async () => {
    const res = await get(`/api/products/${ids.speaker}/`);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), [
      'category',
      'created_at',
      'description',
      'id',
      'images',
      'name',
      'price',
      'rating',
      'stock_quantity',
      'updated_at',
    ]);
    assert.equal(body.price, '99.00');
    assert.deepEqual(body.category, { id: ids.audio, name: 'Audio' });
    assert.deepEqual(body.rating, { average: 0, count: 0 });
    assert.deepEqual(body.images, []);
    assert.match(body.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('answers the same with or without the trailing slash', async () => {
    assert.equal((await get(`/api/products/${ids.speaker}`)).statusCode, 200);
    assert.equal((await get('/api/products?limit=1')).statusCode, 200);
  });

  it('returns the caller’s request id, or makes one', async () => {
    const res = await get('/api/categories/', { 'x-request-id': 'abc-123' });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    const made = await get('/api/categories/');
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  const badRequests = [
    '/api/products/abc/',
    '/api/products/0/',
    '/api/products/-1/',
    '/api/products/1.5/',
    '/api/products/99999999999/',
    '/api/products/?limit=0',
    '/api/products/?limit=1000',
    '/api/products/?limit=abc',
    '/api/products/?cursor=garbage!!',
    '/api/products/?cursor=WyJwcmljZSIsIjEwIiwxXQ',
    `/api/products/?sort=price&cursor=${Buffer.from('["price","1e999",1]').toString('base64url')}`,
    `/api/products/?sort=price&cursor=${Buffer.from('["price","10.00","x"]').toString('base64url')}`,
    `/api/products/?sort=created_at&cursor=${Buffer.from('["created_at","yesterday",1]').toString('base64url')}`,
    '/api/products/?sort=popularity',
    '/api/products/?unknown=1',
    '/api/products/?category_id=abc',
    '/api/products/?category_id=0',
    '/api/products/?min_price=-1',
    '/api/products/?max_price=1.999',
    '/api/products/?min_price=50&max_price=10',
    '/api/products/?in_stock=maybe',
    '/api/categories/abc/',
  ];
  for (const url of badRequests) {
    it(`answers ${url} with a 400 problem`, async () => {
      const res = await get(url);
      assert.equal(res.statusCode, 400, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const body = res.json();
      assert.equal(body.status, 400);
      assert.equal(typeof body.detail, 'string');
      assert.match(body.type, /^\/problems\//);
    });
  }

  it('answers an unknown product or category with a 404 problem', async () => {
    for (const url of ['/api/products/999999/', '/api/categories/999999/', '/api/nothing-here/']) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().status, 404);
    }
  });

  it('combines filters: price range and stock', async () => {
    const res = await get(`/api/products/?category_id=${ids.root}&min_price=19.99&max_price=19.99&limit=100`);
    const items = res.json().items as { price: string }[];
    assert.equal(items.length, 15);
    assert.ok(items.every((p) => p.price === '19.99'));
  });
});
