/**
 * Prints the EXPLAIN (ANALYZE, BUFFERS) plan of every list query shape of GET /api/products/ against the
 * database of DATABASE_URL (seed it first: `bin/bazaar seed --products 1000000`), as Markdown for
 * docs/db_optimization.md, and fails when any plan reads the products table sequentially.
 *
 *   DATABASE_URL=postgres://... npx tsx bench/catalog-plans.ts > plans.md
 */

import * as repo from '../src/modules/catalog/repo.js';
import type { Queryable } from '../src/platform/db/index.js';
import { openPostgres } from '../src/platform/db/postgres.js';
import type { CursorValue } from '../src/platform/http/cursor.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must name a seeded PostgreSQL database');
const db = await openPostgres({ url, poolSize: 1 });

async function categoryId(name: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM categories WHERE name = $1 ORDER BY id LIMIT 1',
    [name],
  );
  if (!rows[0]) throw new Error(`no category ${name}: seed the database first`);
  return rows[0].id;
}

const root = await categoryId('Electronics');
const leaf = await categoryId('Headphones');

interface Shape {
  title: string;
  filter: repo.ProductFilter;
  sort: repo.ProductSort;
  /** Start after this many rows (walked by cursor), to show that a deep page reads what page 1 reads. */
  deep?: number;
}

const shapes: Shape[] = [
  ...(Object.keys(repo.SORTS) as (keyof typeof repo.SORTS)[]).map((sort) => ({
    title: `no filter, sort=${sort}`,
    filter: {},
    sort,
  })),
  { title: 'no filter, sort=price, a cursor 200,000 rows deep', filter: {}, sort: 'price', deep: 200_000 },
  ...(Object.keys(repo.SORTS) as (keyof typeof repo.SORTS)[]).map((sort) => ({
    title: `category_id (a root: 10 categories in 3 levels), sort=${sort}`,
    filter: { categoryId: root },
    sort,
  })),
  {
    title: 'category_id (root) + min_price + max_price + in_stock, sort=price, a cursor 40,000 rows deep',
    filter: { categoryId: root, minPrice: '10', maxPrice: '200', inStock: true },
    sort: 'price',
    deep: 40_000,
  },
  {
    title: 'category_id (a leaf) + in_stock, sort=-created_at',
    filter: { categoryId: leaf, inStock: true },
    sort: '-created_at',
  },
  {
    title: 'min_price + max_price, sort=-created_at',
    filter: { minPrice: '50', maxPrice: '60' },
    sort: '-created_at',
  },
  { title: 'min_price + max_price, sort=price', filter: { minPrice: '50', maxPrice: '60' }, sort: 'price' },
  { title: 'q (a rare word), ranked (no sort)', filter: { q: 'wok' }, sort: 'relevance' },
  { title: 'q (a common word), ranked (no sort)', filter: { q: 'bamboo' }, sort: 'relevance' },
  { title: 'q + sort=price', filter: { q: 'wok' }, sort: 'price' },
  {
    title: 'q + category_id (root) + in_stock, sort=-rating',
    filter: { q: 'wireless', categoryId: root, inStock: true },
    sort: '-rating',
  },
];

/** A Queryable that runs EXPLAIN of the statement it is given instead of the statement itself. */
function explaining(target: Queryable, plans: string[]): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]) {
      const { rows } = await target.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`,
        params,
      );
      plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
      return { rows: [] as R[], rowCount: 0 };
    },
  };
}

async function deepCursor(shape: Shape, depth: number): Promise<CursorValue[]> {
  let after: CursorValue[] | null = null;
  for (let walked = 0; walked < depth; walked += 5_000) {
    const rows = await repo.listProducts(db, shape.filter, shape.sort, after, 5_000);
    const last = rows.at(-1);
    if (!last) break;
    after = [last.cursor_key, last.id];
    if (rows.length < 5_000) break;
  }
  if (after === null) throw new Error(`${shape.title}: no rows`);
  return after;
}

const out: string[] = [];
let sequential = 0;
for (const shape of shapes) {
  const plans: string[] = [];
  const after = shape.deep ? await deepCursor(shape, shape.deep) : null;
  await repo.listProducts(explaining(db, plans), shape.filter, shape.sort, after, 21);
  const plan = plans.join('\n');
  if (/Seq Scan on products/.test(plan)) sequential += 1;
  out.push(`#### ${shape.title}\n\n\`\`\`\n${plan}\n\`\`\`\n`);
}
await db.close();
process.stdout.write(out.join('\n'));
if (sequential > 0) {
  process.stderr.write(`${sequential} plan(s) read products sequentially\n`);
  process.exitCode = 1;
}
