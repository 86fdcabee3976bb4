import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';

/**
 * Every filter with every sort, walked page by page through the API, must give exactly the rows, in exactly
 * the order, of a plain reference query (no keyset, no per-category merge).
 */

const SORT_SQL: Record<string, string> = {
  created_at: 'created_at ASC, id ASC',
  '-created_at': 'created_at DESC, id DESC',
  price: 'price ASC, id ASC',
  '-price': 'price DESC, id DESC',
  name: 'name ASC, id ASC',
  '-name': 'name DESC, id DESC',
  '-rating': 'rating_avg DESC, id DESC',
};
const RANK = "round(ts_rank(search, websearch_to_tsquery('english', $1), 32)::numeric, 6) DESC, id DESC";

interface Filter {
  category?: 'root' | 'left' | 'leaf';
  q?: string;
  min?: string;
  max?: string;
  inStock?: boolean;
}

forEachEngine('catalog filters and sorts', (ctx) => {
  let t: TestApp;
  const cats = { root: 0, left: 0, leaf: 0, right: 0, other: 0 };

  before(async () => {
    t = await buildTestApp(ctx.db);
    cats.root = await insertCategory(ctx.db, 'Sorts root');
    cats.left = await insertCategory(ctx.db, 'Sorts left', cats.root);
    cats.leaf = await insertCategory(ctx.db, 'Sorts leaf', cats.left);
    cats.right = await insertCategory(ctx.db, 'Sorts right', cats.root);
    cats.other = await insertCategory(ctx.db, 'Sorts other');
    const homes = [cats.root, cats.left, cats.leaf, cats.right, cats.other];
    const words = ['oak chair', 'oak table', 'steel chair', 'bamboo lamp', 'oak oak shelf'];
    for (let i = 0; i < 60; i += 1) {
      const id = await insertProduct(ctx.db, {
        // Shared names, prices and creation times force the id tie-break everywhere.
        name: `${words[i % 5]} ${i % 4}`,
        description: i % 3 === 0 ? 'made of oak' : 'plain',
        price: ['5.00', '19.99', '19.99', '42.50'][i % 4],
        stock: i % 6 === 0 ? 0 : 3,
        categoryId: homes[i % homes.length] as number,
        createdAt: i % 3 === 0 ? '2026-03-01T10:00:00.000001Z' : `2026-03-0${1 + (i % 7)}T10:00:00Z`,
      });
      if (i % 5 === 0) {
        await ctx.db.query('UPDATE products SET rating_count = 2, rating_sum = $2 WHERE id = $1', [
          id,
          2 + (i % 9),
        ]);
      }
      if (i % 10 === 7) await ctx.db.query('UPDATE products SET deleted_at = now() WHERE id = $1', [id]);
    }
  });
  after(() => t.close());

  async function reference(filter: Filter, sort: string | undefined): Promise<number[]> {
    const params: unknown[] = [];
    const where = ['deleted_at IS NULL'];
    if (filter.q !== undefined) {
      params.push(filter.q);
      where.push("search @@ websearch_to_tsquery('english', $1)");
    }
    if (filter.category !== undefined) {
      params.push(cats[filter.category]);
      where.push(`category_id IN (WITH RECURSIVE tree AS (SELECT id FROM categories WHERE id = $${params.length}
        UNION ALL SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id) SELECT id FROM tree)`);
    }
    if (filter.min !== undefined) {
      params.push(filter.min);
      where.push(`price >= $${params.length}::numeric`);
    }
    if (filter.max !== undefined) {
      params.push(filter.max);
      where.push(`price <= $${params.length}::numeric`);
    }
    if (filter.inStock) where.push('stock_quantity > 0');
    const order = sort ? SORT_SQL[sort] : filter.q !== undefined ? RANK : SORT_SQL['-created_at'];
    const { rows } = await ctx.db.query<{ id: number }>(
      `SELECT id FROM products WHERE ${where.join(' AND ')} ORDER BY ${order}`,
      params,
    );
    return rows.map((row) => row.id);
  }

  async function walk(filter: Filter, sort: string | undefined, limit: number): Promise<number[]> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (sort) query.set('sort', sort);
    if (filter.q !== undefined) query.set('q', filter.q);
    if (filter.category !== undefined) query.set('category_id', String(cats[filter.category]));
    if (filter.min !== undefined) query.set('min_price', filter.min);
    if (filter.max !== undefined) query.set('max_price', filter.max);
    if (filter.inStock) query.set('in_stock', 'true');
    const seen: number[] = [];
    for (let pages = 0; pages < 100; pages += 1) {
      const res = await t.app.inject({ method: 'GET', url: `/api/products/?${query}` });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.ok(body.items.length <= limit);
      seen.push(...body.items.map((p: { id: number }) => p.id));
      if (body.next_cursor === null) return seen;
      assert.ok(body.items.length === limit, 'only the last page may be short');
      query.set('cursor', body.next_cursor);
    }
    throw new Error('more than 100 pages');
  }

  const filters: Filter[] = [
    {},
    { category: 'root' },
    { category: 'left' },
    { category: 'leaf', inStock: true },
    { q: 'oak' },
    { q: 'chair', category: 'root' },
    { min: '19.99', max: '42.50' },
    { category: 'root', min: '6', inStock: true },
    { q: 'oak', category: 'left', max: '20', inStock: true },
  ];
  for (const filter of filters) {
    for (const sort of [undefined, ...Object.keys(SORT_SQL)]) {
      it(`walks ${JSON.stringify(filter)} sorted by ${sort ?? 'default'} page by page, each row once, in order`, async () => {
        const expected = await reference(filter, sort);
        assert.ok(expected.length > 0, 'the fixture must match something');
        assert.deepEqual(await walk(filter, sort, 4), expected);
      });
    }
  }

  it('ranks a search by relevance: name matches before description-only matches', async () => {
    const items = (await t.app.inject({ method: 'GET', url: '/api/products/?q=oak&limit=100' })).json()
      .items as {
      name: string;
    }[];
    const firstDescriptionOnly = items.findIndex((p) => !p.name.includes('oak'));
    assert.ok(firstDescriptionOnly > 0);
    assert.ok(items.slice(firstDescriptionOnly).every((p) => !p.name.includes('oak')));
    assert.match(items[0]?.name ?? '', /^oak oak shelf/);
  });

  it('refuses a cursor of another sort, a forged rank and a cursor without its search', async () => {
    const first = (await t.app.inject({ method: 'GET', url: '/api/products/?q=oak&limit=2' })).json();
    const cursor = first.next_cursor as string;
    for (const url of [
      `/api/products/?q=oak&sort=price&cursor=${cursor}`,
      `/api/products/?cursor=${cursor}`,
      `/api/products/?q=oak&cursor=${Buffer.from('["relevance","2.5",1]').toString('base64url')}`,
      `/api/products/?q=oak&cursor=${Buffer.from('["relevance","0.1234567",1]').toString('base64url')}`,
    ]) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, url);
    }
  });

  it('makes the same number of queries for a page of 2 and a page of 40, and for any detail', async () => {
    const withImages = await insertProduct(ctx.db, { categoryId: cats.leaf });
    for (let i = 0; i < 3; i += 1) {
      await ctx.db.query(
        `INSERT INTO product_images (product_id, status, content_type, original_path, thumbnail_path)
         VALUES ($1, 'ready', 'image/png', $2, $3)`,
        [withImages, `p/${i}.png`, `p/${i}_t.png`],
      );
    }
    const cost = async (url: string) => {
      // Every catalog response is cached: start from a cold cache so each request reaches the database.
      await t.app.responseCache.invalidate(['categories']);
      const start = ctx.db.stats.queries;
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      return ctx.db.stats.queries - start;
    };
    for (const filter of ['', `&category_id=${cats.root}`, '&q=oak', '&min_price=1&in_stock=true']) {
      const small = await cost(`/api/products/?limit=2${filter}`);
      const large = await cost(`/api/products/?limit=40${filter}`);
      assert.equal(large, small, filter);
      assert.equal(small, 1);
    }
    const bare = await insertProduct(ctx.db, { categoryId: cats.leaf });
    assert.equal(await cost(`/api/products/${withImages}/`), 1);
    assert.equal(await cost(`/api/products/${bare}/`), 1);
    const detail = (await t.app.inject({ method: 'GET', url: `/api/products/${withImages}/` })).json();
    assert.equal(detail.images.length, 3);
    const listed = (
      await t.app.inject({ method: 'GET', url: `/api/products/?category_id=${cats.leaf}&limit=100` })
    ).json();
    const row = listed.items.find((p: { id: number }) => p.id === withImages);
    assert.equal(row.thumbnail_url, '/media/p/0_t.png');
  });
});
