import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct, insertUser } from '../helpers/fixtures.js';

forEachEngine('catalog writes', (ctx) => {
  let t: TestApp;
  let manager: string;
  let customer: string;
  let root: number;
  let leaf: number;

  before(async () => {
    t = await buildTestApp(ctx.db);
    manager = t.tokenFor(await insertUser(ctx.db, 'manager'));
    customer = t.tokenFor(await insertUser(ctx.db, 'customer'));
    root = await insertCategory(ctx.db, 'Writes root');
    leaf = await insertCategory(ctx.db, 'Writes leaf', root);
  });
  after(() => t.close());

  const send = (method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, body?: unknown, token = manager) =>
    t.app.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });

  const productCount = async () =>
    (await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM products')).rows[0]?.n;

  it('creates a product with an exact price and shows it in the catalog', async () => {
    const res = await send('POST', '/api/products/', {
      name: 'Walnut desk',
      description: 'Solid walnut',
      price: '249.90',
      stock_quantity: 3,
      category_id: leaf,
    });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.equal(body.price, '249.90');
    assert.deepEqual(body.category, { id: leaf, name: 'Writes leaf' });
    assert.deepEqual(body.rating, { average: 0, count: 0 });
    const listed = (await send('GET', `/api/products/?category_id=${root}`)).json();
    assert.ok(listed.items.some((p: { id: number }) => p.id === body.id));
  });

  it('changes only the fields a PATCH names', async () => {
    const id = await insertProduct(ctx.db, { name: 'Lamp', price: '10.00', stock: 1, categoryId: leaf });
    const res = await send('PATCH', `/api/products/${id}/`, { price: '12.5', stock_quantity: 0 });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.price, '12.50');
    assert.equal(body.stock_quantity, 0);
    assert.equal(body.name, 'Lamp');
  });

  it('keeps the search vector equal to the name and description through every kind of write', async () => {
    const searchIsCurrent = async (id: number) =>
      (
        await ctx.db.query<{ current: boolean }>(
          `SELECT search = setweight(to_tsvector('english', name), 'A')
                           || setweight(to_tsvector('english', description), 'B') AS current
           FROM products WHERE id = $1`,
          [id],
        )
      ).rows[0]?.current;
    const created = await send('POST', '/api/products/', {
      name: 'Brass reading lamp',
      description: 'Warm light for late evenings',
      price: '30.00',
      stock_quantity: 2,
      category_id: leaf,
    });
    const id: number = created.json().id;
    assert.equal(await searchIsCurrent(id), true);
    assert.equal(
      (await send('PATCH', `/api/products/${id}/`, { name: 'Copper reading lamp' })).statusCode,
      200,
    );
    assert.equal((await send('PATCH', `/api/products/${id}/`, { stock_quantity: 5 })).statusCode, 200);
    assert.equal(await searchIsCurrent(id), true);
    await ctx.db.query(`UPDATE products SET search = to_tsvector('simple', 'forged') WHERE id = $1`, [id]);
    assert.equal(await searchIsCurrent(id), true);
    const found = async (q: string) =>
      (await send('GET', `/api/products/?q=${q}&limit=100`))
        .json()
        .items.some((p: { id: number }) => p.id === id);
    assert.equal(await found('copper'), true);
    assert.equal(await found('brass'), false);
    assert.equal(await found('evening'), true);
  });

  it('soft-deletes a product: gone from list, detail and reviews, kept in the table', async () => {
    const id = await insertProduct(ctx.db, { name: 'Doomed', categoryId: leaf });
    assert.equal((await send('DELETE', `/api/products/${id}/`)).statusCode, 204);
    assert.equal((await send('GET', `/api/products/${id}/`)).statusCode, 404);
    assert.equal((await send('GET', `/api/products/${id}/reviews/`)).statusCode, 404);
    assert.equal((await send('PATCH', `/api/products/${id}/`, { name: 'Back' })).statusCode, 404);
    assert.equal((await send('DELETE', `/api/products/${id}/`)).statusCode, 404);
    const listed = (await send('GET', `/api/products/?category_id=${leaf}&limit=100`)).json();
    assert.ok(!listed.items.some((p: { id: number }) => p.id === id));
    const kept = await ctx.db.query('SELECT deleted_at FROM products WHERE id = $1', [id]);
    assert.ok(kept.rows[0]?.deleted_at instanceof Date);
  });

  it('refuses every catalog write from a customer (403) and from nobody (401)', async () => {
    const id = await insertProduct(ctx.db, { categoryId: leaf });
    const before = await productCount();
    const attempts: ['POST' | 'PATCH' | 'DELETE', string, unknown][] = [
      ['POST', '/api/products/', { name: 'x', price: '1.00', stock_quantity: 1, category_id: leaf }],
      ['PATCH', `/api/products/${id}/`, { name: 'y' }],
      ['DELETE', `/api/products/${id}/`, undefined],
      ['POST', '/api/categories/', { name: 'Nope' }],
      ['PATCH', `/api/categories/${leaf}/`, { name: 'Nope' }],
      ['DELETE', `/api/categories/${leaf}/`, undefined],
    ];
    for (const [method, url, body] of attempts) {
      assert.equal((await send(method, url, body, customer)).statusCode, 403, `${method} ${url}`);
      assert.equal((await send(method, url, body, '')).statusCode, 401, `${method} ${url}`);
    }
    assert.equal(await productCount(), before);
    assert.equal((await send('GET', `/api/products/${id}/`)).json().name, 'Test product');
  });

  const valid = { name: 'Valid', price: '1.00', stock_quantity: 1 };
  const badBodies: [string, Record<string, unknown>][] = [
    ['a negative price', { price: '-1.00' }],
    ['a zero price', { price: '0.00' }],
    ['three decimals', { price: '1.999' }],
    ['a price as a JSON number', { price: 19.99 }],
    ['a price with letters', { price: '12abc' }],
    ['a negative stock', { stock_quantity: -1 }],
    ['a fractional stock', { stock_quantity: 1.5 }],
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a 201-character name', { name: 'x'.repeat(201) }],
    ['a 10,001-character description', { description: 'x'.repeat(10_001) }],
    ['an unknown field', { colour: 'red' }],
    ['an unknown category', { category_id: 99_999_999 }],
  ];
  for (const [what, patch] of badBodies) {
    it(`refuses a product with ${what}: 400 and nothing changed`, async () => {
      const before = await productCount();
      const created = await send('POST', '/api/products/', { ...valid, category_id: leaf, ...patch });
      assert.equal(created.statusCode, 400, created.body);
      assert.match(String(created.headers['content-type']), /^application\/problem\+json/);
      assert.equal(await productCount(), before);
      const id = await insertProduct(ctx.db, {
        name: 'Unchanged',
        price: '5.00',
        stock: 2,
        categoryId: leaf,
      });
      const patched = await send('PATCH', `/api/products/${id}/`, patch);
      assert.equal(patched.statusCode, 400, patched.body);
      const row = (await send('GET', `/api/products/${id}/`)).json();
      assert.deepEqual(
        [row.name, row.price, row.stock_quantity, row.category.id],
        ['Unchanged', '5.00', 2, leaf],
      );
    });
  }

  it('refuses an empty PATCH', async () => {
    const id = await insertProduct(ctx.db, { categoryId: leaf });
    assert.equal((await send('PATCH', `/api/products/${id}/`, {})).statusCode, 400);
  });

  it('creates, renames and moves categories and shows the new path', async () => {
    const created = await send('POST', '/api/categories/', { name: 'Garden tools', parent_id: root });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().id;
    assert.deepEqual(
      created.json().path.map((c: { name: string }) => c.name),
      ['Writes root', 'Garden tools'],
    );
    const moved = await send('PATCH', `/api/categories/${id}/`, { name: 'Tools', parent_id: leaf });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.deepEqual(
      moved.json().path.map((c: { name: string }) => c.name),
      ['Writes root', 'Writes leaf', 'Tools'],
    );
    const rooted = await send('PATCH', `/api/categories/${id}/`, { parent_id: null });
    assert.equal(rooted.json().parent_id, null);
  });

  it('refuses a move that would make a cycle, and an unknown parent', async () => {
    const a = await insertCategory(ctx.db, 'Cycle A');
    const b = await insertCategory(ctx.db, 'Cycle B', a);
    const c = await insertCategory(ctx.db, 'Cycle C', b);
    for (const parent of [a, b, c]) {
      const res = await send('PATCH', `/api/categories/${a}/`, { parent_id: parent });
      assert.equal(res.statusCode, 400, res.body);
    }
    assert.equal((await send('PATCH', `/api/categories/${a}/`, { parent_id: 99_999_999 })).statusCode, 400);
    assert.equal(
      (await send('POST', '/api/categories/', { name: 'Orphan', parent_id: 99_999_999 })).statusCode,
      400,
    );
    const after = (await send('GET', `/api/categories/${a}/`)).json();
    assert.equal(after.parent_id, null);
  });

  it('answers a duplicate sibling name with 409', async () => {
    await insertCategory(ctx.db, 'Twin', root);
    const res = await send('POST', '/api/categories/', { name: 'twin', parent_id: root });
    assert.equal(res.statusCode, 409, res.body);
  });

  it('refuses to delete a category that holds products (even deleted ones) or children', async () => {
    const parent = await insertCategory(ctx.db, 'Busy parent');
    const child = await insertCategory(ctx.db, 'Busy child', parent);
    assert.equal((await send('DELETE', `/api/categories/${parent}/`)).statusCode, 409);
    const product = await insertProduct(ctx.db, { categoryId: child });
    assert.equal((await send('DELETE', `/api/categories/${child}/`)).statusCode, 409);
    await send('DELETE', `/api/products/${product}/`);
    assert.equal((await send('DELETE', `/api/categories/${child}/`)).statusCode, 409);
    const empty = await insertCategory(ctx.db, 'Empty', parent);
    assert.equal((await send('DELETE', `/api/categories/${empty}/`)).statusCode, 204);
    assert.equal((await send('GET', `/api/categories/${empty}/`)).statusCode, 404);
    assert.equal((await send('DELETE', `/api/categories/${empty}/`)).statusCode, 404);
  });
});
