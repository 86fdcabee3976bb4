import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct, insertUser } from '../helpers/fixtures.js';

forEachEngine('reviews', (ctx) => {
  let t: TestApp;
  let category: number;

  before(async () => {
    t = await buildTestApp(ctx.db);
    category = await insertCategory(ctx.db, 'Reviewed things');
  });
  after(() => t.close());

  const as = async (role: 'customer' | 'manager' = 'customer') => t.tokenFor(await insertUser(ctx.db, role));
  const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token?: string, body?: object) =>
    t.app.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body ? { payload: body } : {}),
    });
  const ratingOf = async (productId: number) =>
    (await send('GET', `/api/products/${productId}/`)).json().rating;
  const stored = async (productId: number) =>
    (
      await ctx.db.query<{ rating_count: number; rating_sum: number }>(
        'SELECT rating_count, rating_sum FROM products WHERE id = $1',
        [productId],
      )
    ).rows[0];

  it('keeps the rating exact through create, edit and delete', async () => {
    const product = await insertProduct(ctx.db, { categoryId: category });
    const [a, b, c] = [await as(), await as(), await as()];
    const first = await send('POST', `/api/products/${product}/reviews/`, a, { rating: 5, comment: 'Great' });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().rating, 5);
    await send('POST', `/api/products/${product}/reviews/`, b, { rating: 4 });
    const third = await send('POST', `/api/products/${product}/reviews/`, c, { rating: 2 });
    assert.deepEqual(await ratingOf(product), { average: 3.67, count: 3 });
    const edited = await send('PATCH', `/api/reviews/${third.json().id}/`, c, { rating: 3 });
    assert.equal(edited.statusCode, 200, edited.body);
    assert.deepEqual(await ratingOf(product), { average: 4, count: 3 });
    assert.equal(
      (await send('PATCH', `/api/reviews/${third.json().id}/`, c, { comment: 'meh' })).json().rating,
      3,
    );
    assert.equal((await send('DELETE', `/api/reviews/${first.json().id}/`, a)).statusCode, 204);
    assert.deepEqual(await ratingOf(product), { average: 3.5, count: 2 });
  });

  it('refuses a second review of the same product with 409 and keeps the rating', async () => {
    const product = await insertProduct(ctx.db, { categoryId: category });
    const token = await as();
    await send('POST', `/api/products/${product}/reviews/`, token, { rating: 1 });
    const again = await send('POST', `/api/products/${product}/reviews/`, token, { rating: 5 });
    assert.equal(again.statusCode, 409, again.body);
    assert.deepEqual(await stored(product), { rating_count: 1, rating_sum: 1 });
  });

  it("answers 404 to a user editing or deleting another's review; a manager may delete it", async () => {
    const product = await insertProduct(ctx.db, { categoryId: category });
    const [author, other] = [await as(), await as()];
    const id = (await send('POST', `/api/products/${product}/reviews/`, author, { rating: 4 })).json().id;
    assert.equal((await send('PATCH', `/api/reviews/${id}/`, other, { rating: 1 })).statusCode, 404);
    assert.equal((await send('DELETE', `/api/reviews/${id}/`, other)).statusCode, 404);
    assert.equal(
      (await send('PATCH', `/api/reviews/${id}/`, await as('manager'), { rating: 1 })).statusCode,
      404,
    );
    assert.deepEqual(await stored(product), { rating_count: 1, rating_sum: 4 });
    assert.equal((await send('DELETE', `/api/reviews/${id}/`, await as('manager'))).statusCode, 204);
    assert.deepEqual(await stored(product), { rating_count: 0, rating_sum: 0 });
    assert.equal(
      (await send('POST', `/api/products/${product}/reviews/`, undefined, { rating: 4 })).statusCode,
      401,
    );
  });

  const badBodies: [string, object][] = [
    ['a rating of 0', { rating: 0 }],
    ['a rating of 6', { rating: 6 }],
    ['a fractional rating', { rating: 4.5 }],
    ['a rating as a string', { rating: '5' }],
    ['no rating', { comment: 'x' }],
    ['a 5,001-character comment', { rating: 3, comment: 'x'.repeat(5_001) }],
    ['an unknown field', { rating: 3, stars: 3 }],
  ];
  for (const [what, body] of badBodies) {
    it(`refuses a review with ${what}: 400 and nothing changed`, async () => {
      const product = await insertProduct(ctx.db, { categoryId: category });
      const res = await send('POST', `/api/products/${product}/reviews/`, await as(), body);
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(await stored(product), { rating_count: 0, rating_sum: 0 });
    });
  }

  it('answers 404 for reviews of an unknown or deleted product, and hides their reviews', async () => {
    const token = await as();
    assert.equal(
      (await send('POST', '/api/products/99999999/reviews/', token, { rating: 3 })).statusCode,
      404,
    );
    const product = await insertProduct(ctx.db, { categoryId: category });
    const id = (await send('POST', `/api/products/${product}/reviews/`, token, { rating: 3 })).json().id;
    await ctx.db.query('UPDATE products SET deleted_at = now() WHERE id = $1', [product]);
    assert.equal((await send('GET', `/api/products/${product}/reviews/`)).statusCode, 404);
    assert.equal(
      (await send('POST', `/api/products/${product}/reviews/`, await as(), { rating: 3 })).statusCode,
      404,
    );
    assert.equal((await send('PATCH', `/api/reviews/${id}/`, token, { rating: 1 })).statusCode, 404);
    assert.deepEqual(await stored(product), { rating_count: 1, rating_sum: 3 });
  });

  it('lists reviews newest first in keyset pages, each once', async () => {
    const product = await insertProduct(ctx.db, { categoryId: category });
    const ids: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      ids.push(
        (await send('POST', `/api/products/${product}/reviews/`, await as(), { rating: 1 + (i % 5) })).json()
          .id,
      );
    }
    const seen: number[] = [];
    let url = `/api/products/${product}/reviews/?limit=3`;
    for (;;) {
      const body = (await send('GET', url)).json();
      seen.push(...body.items.map((r: { id: number }) => r.id));
      if (body.next_cursor === null) break;
      url = `/api/products/${product}/reviews/?limit=3&cursor=${body.next_cursor}`;
    }
    assert.deepEqual(seen, ids.reverse());
    for (const bad of ['?limit=1000', '?cursor=nope!', '?sort=rating']) {
      assert.equal((await send('GET', `/api/products/${product}/reviews/${bad}`)).statusCode, 400, bad);
    }
  });

  if (ctx.engine === 'postgres') {
    it('counts 50 concurrent reviews of one product exactly', async () => {
      const product = await insertProduct(ctx.db, { categoryId: category });
      const tokens = await Promise.all(Array.from({ length: 50 }, () => as()));
      const ratings = tokens.map((_, i) => 1 + ((i * 7) % 5));
      const answers = await Promise.all(
        tokens.map((token, i) =>
          send('POST', `/api/products/${product}/reviews/`, token, { rating: ratings[i] as number }),
        ),
      );
      assert.deepEqual(
        answers.map((res) => res.statusCode),
        answers.map(() => 201),
      );
      const sum = ratings.reduce((total, rating) => total + rating, 0);
      assert.deepEqual(await stored(product), { rating_count: 50, rating_sum: sum });
      assert.deepEqual(await ratingOf(product), { average: Math.round((sum / 50) * 100) / 100, count: 50 });
    });
  }
});
