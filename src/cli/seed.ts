import { randomBytes } from 'node:crypto';
import { hashPassword } from '../modules/users/passwords.js';
import type { Database, Queryable } from '../platform/db/index.js';
import { createProgress } from './progress.js';
import { ADJECTIVES, CATEGORY_TREE, type CategorySeed, FEATURES, MATERIALS } from './seed-data.js';

/**
 * Generates a realistic catalog and activity inside the database (INSERT ... SELECT over generate_series), so
 * a million products never cross the wire row by row. Large runs drop the products' secondary indexes and
 * build them again afterwards, which is several times faster than maintaining them row by row.
 */

export interface SeedOptions {
  products: number;
  users: number;
  orders: number;
}

export interface SeedSummary {
  categories: number;
  products: number;
  users: number;
  orders: number;
  shopperPassword: string | null;
  seconds: number;
}

const CHUNK = 25_000;
const BULK_THRESHOLD = 100_000;

async function upsertCategory(db: Queryable, name: string, parentId: number | null): Promise<number> {
  const found = await db.query<{ id: number }>(
    'SELECT id FROM categories WHERE coalesce(parent_id, 0) = coalesce($1::integer, 0) AND lower(name) = lower($2)',
    [parentId, name],
  );
  if (found.rows[0]) return found.rows[0].id;
  const inserted = await db.query<{ id: number }>(
    'INSERT INTO categories (name, parent_id) VALUES ($1, $2) RETURNING id',
    [name, parentId],
  );
  return (inserted.rows[0] as { id: number }).id;
}

/** Creates the category tree (reusing what exists); returns one entry per leaf noun: [leaf id, noun]. */
async function seedCategories(db: Queryable): Promise<{ count: number; leaves: [number, string][] }> {
  const leaves: [number, string][] = [];
  let count = 0;
  const visit = async (node: CategorySeed, parentId: number | null): Promise<void> => {
    const id = await upsertCategory(db, node.name, parentId);
    count += 1;
    for (const noun of node.nouns ?? []) leaves.push([id, noun]);
    for (const child of node.children ?? []) await visit(child, id);
  };
  for (const root of CATEGORY_TREE) await visit(root, null);
  return { count, leaves };
}

const PRODUCTS_SQL = `
  INSERT INTO products (name, description, price, stock_quantity, category_id, created_at, updated_at)
  SELECT name,
         'The ' || name || ' is ' || ($4::text[])[1 + (g % array_length($4::text[], 1))] || ', and '
           || ($4::text[])[1 + ((g / 7) % array_length($4::text[], 1))] || '.',
         price, stock, category_id, created, created
  FROM (
    SELECT g,
           ($2::text[])[1 + floor(random() * array_length($2::text[], 1))::int] || ' '
             || ($3::text[])[1 + floor(random() * array_length($3::text[], 1))::int] || ' '
             || ($6::text[])[k] || ' ' || chr(65 + (g % 26)) || (100 + (g::bigint * 7919) % 900)::text AS name,
           round((floor(exp(random() * 6.2)) + 0.99)::numeric, 2) AS price,
           CASE WHEN random() < 0.05 THEN 0 ELSE floor(random() * 250)::int END AS stock,
           ($5::int[])[k] AS category_id,
           now() - random() * interval '365 days' AS created
    FROM (SELECT g, 1 + floor(random() * array_length($5::int[], 1))::int AS k
          FROM generate_series($1::int + 1, $1::int + $7::int) AS g) picks
  ) generated`;

/**
 * A bulk statement without the pool's statement timeout (15 s, right for requests): building a GIN index over
 * a million rows on a busy machine can take longer, and a seed has no user waiting.
 */
function unbounded(db: Database, sql: string, params?: unknown[]) {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query(sql, params);
  });
}

async function seedProducts(db: Database, count: number, leaves: [number, string][]) {
  const bulk = count >= BULK_THRESHOLD;
  const indexes = bulk
    ? (
        await db.query<{ indexname: string; indexdef: string }>(
          `SELECT indexname, indexdef FROM pg_indexes
           WHERE tablename = 'products' AND schemaname = current_schema() AND indexname <> 'products_pkey'`,
        )
      ).rows
    : [];
  for (const index of indexes) await db.query(`DROP INDEX IF EXISTS ${index.indexname}`);

  const progress = createProgress('products', count);
  try {
    for (let done = 0; done < count; done += CHUNK) {
      const size = Math.min(CHUNK, count - done);
      await unbounded(db, PRODUCTS_SQL, [
        done,
        ADJECTIVES,
        MATERIALS,
        FEATURES,
        leaves.map(([id]) => id),
        leaves.map(([, noun]) => noun),
        size,
      ]);
      progress.advance(size);
    }
  } finally {
    progress.stop();
    // Indexes come back even when the load fails half-way: the catalog must never lose its access paths.
    for (const index of indexes) await unbounded(db, index.indexdef);
  }
  if (bulk) await unbounded(db, 'ANALYZE products');
}

async function seedUsers(db: Database, count: number): Promise<string> {
  const password = randomBytes(9).toString('base64url');
  const hash = await hashPassword(password);
  const progress = createProgress('users', count);
  for (let done = 0; done < count; done += CHUNK) {
    const size = Math.min(CHUNK, count - done);
    await db.query(
      `INSERT INTO users (username, email, password, first_name, last_name)
       SELECT 'shopper' || n, 'shopper' || n || '@example.com', $2, 'Shopper', n::text
       FROM (SELECT (SELECT coalesce(max(id), 0) FROM users) + g AS n FROM generate_series(1, $1::int) g) s
       ON CONFLICT DO NOTHING`,
      [size, hash],
    );
    progress.advance(size);
  }
  progress.stop();
  return password;
}

async function seedOrders(db: Database, count: number) {
  const progress = createProgress('orders', count);
  for (let done = 0; done < count; done += CHUNK) {
    const size = Math.min(CHUNK, count - done);
    await db.transaction(async (tx) => {
      // A chunk can outlast the pool's request-sized statement timeout on a busy machine; see unbounded().
      await tx.query('SET LOCAL statement_timeout = 0');
      const { rows } = await tx.query<{ id: number }>(
        `INSERT INTO orders (user_id, order_status, total_amount, created_at, updated_at)
         SELECT u.id, s.status, 0, s.created, s.created
         FROM (SELECT (ARRAY['pending','paid','shipped','delivered','delivered','canceled'])[1 + floor(random() * 6)::int] AS status,
                      now() - random() * interval '180 days' AS created,
                      (SELECT min(id) FROM users) + floor(random() * (SELECT max(id) - min(id) + 1 FROM users))::int AS pick
               FROM generate_series(1, $1::int)) s
         JOIN LATERAL (SELECT id FROM users WHERE id >= s.pick ORDER BY id LIMIT 1) u ON true
         RETURNING id`,
        [size],
      );
      const ids = rows.map((row) => row.id);
      await tx.query(
        // Each order's random start is drawn once, in a materialised step, and the product scan has a constant
        // LIMIT: it then seeks by primary key and stops after three rows (18.7 s -> 56 ms for 1,000 orders of
        // 43,000 products). With the volatile start inlined, or a LIMIT the planner could not see, it chose a
        // bitmap scan of every product above the start, per order.
        `WITH picks AS MATERIALIZED (
           SELECT o.id, o.created_at, 1 + o.id % 3 AS lines,
                  (SELECT min(id) FROM products) + floor(random() * (SELECT max(id) - min(id) + 1 FROM products))::int AS start
             FROM orders o WHERE o.id = ANY($1::int[])
         )
         INSERT INTO order_items (order_id, product_id, quantity, price, created_at, updated_at)
         SELECT k.id, p.id, 1 + floor(random() * 3)::int, p.price, k.created_at, k.created_at
         FROM picks k
         CROSS JOIN LATERAL (
           SELECT id, price, row_number() OVER (ORDER BY id) AS n
             FROM (SELECT id, price FROM products
                    WHERE id >= k.start AND deleted_at IS NULL
                    ORDER BY id LIMIT 3) first
         ) p
         WHERE p.n <= k.lines`,
        [ids],
      );
      await tx.query(
        `UPDATE orders o SET total_amount = t.total
         FROM (SELECT order_id, sum(quantity * price) AS total FROM order_items
               WHERE order_id = ANY($1::int[]) GROUP BY order_id) t
         WHERE o.id = t.order_id`,
        [ids],
      );
      await tx.query(
        `INSERT INTO payments (order_id, payment_method, amount, status, created_at, updated_at)
         SELECT id, 'card', total_amount,
                CASE order_status WHEN 'pending' THEN 'pending' WHEN 'canceled' THEN 'refunded' ELSE 'succeeded' END,
                created_at, created_at
         FROM orders WHERE id = ANY($1::int[])`,
        [ids],
      );
    });
    progress.advance(size);
  }
  progress.stop();
}

export async function seed(db: Database, options: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  const categories = await seedCategories(db);
  if (options.products > 0) await seedProducts(db, options.products, categories.leaves);
  const shopperPassword = options.users > 0 ? await seedUsers(db, options.users) : null;
  if (options.orders > 0) {
    const { rows } = await db.query<{ users: number; products: number }>(
      'SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM products) AS products',
    );
    if (!rows[0]?.users || !rows[0].products)
      throw new Error('Orders need users and products: seed those first');
    await seedOrders(db, options.orders);
  }
  return {
    categories: categories.count,
    products: options.products,
    users: options.users,
    orders: options.orders,
    shopperPassword,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
