import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { seed } from '../src/cli/seed.js';
import { migrate } from '../src/platform/db/index.js';
import { openPostgres } from '../src/platform/db/postgres.js';

/**
 * The benchmark's database: the one named by BENCH_DATABASE_URL (kept), or a fresh one on the local PostgreSQL
 * (BENCH_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards. Either way it
 * is migrated and holds at least `products` products and `users` shoppers (seeded when short). The first
 * POPULAR live products are the mix's shelf: they get ample stock (POPULAR_STOCK, topped up at every start),
 * so a long run of checkouts never sells them out and turns the mix into a stream of short-stock 409s.
 */
const POPULAR = 1_000;
const POPULAR_STOCK = 1_000_000;

export async function benchDatabase(products: number, users: number) {
  const reuse = process.env.BENCH_DATABASE_URL;
  const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let url = reuse ?? '';
  let drop = async () => {};
  if (!reuse) {
    const name = `bazaar_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const parsed = new URL(adminUrl);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
    drop = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
  }
  // One connection, so the session setting below covers every statement: on a busy machine, rebuilding the
  // indexes of a million products takes longer than the API's statement timeout.
  const db = await openPostgres({ url, poolSize: 1 });
  try {
    await db.query('SET statement_timeout = 0');
    await migrate(db);
    const { rows } = await db.query<{ products: number; users: number }>(
      'SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM users) AS users',
    );
    const have = rows[0] ?? { products: 0, users: 0 };
    if (have.products < products || have.users < users) {
      process.stderr.write(
        `seeding ${products - have.products} products and ${users - have.users} users...\n`,
      );
      await seed(db, {
        products: Math.max(0, products - have.products),
        users: Math.max(0, users - have.users),
        orders: 0,
      });
    }
    const ids = await db.query<{ min: number; max: number; hot: number; category: number }>(
      `SELECT min(id) AS min, max(id) AS max,
         (SELECT id FROM products WHERE deleted_at IS NULL ORDER BY id LIMIT 1) AS hot,
         (SELECT min(id) FROM categories) AS category
       FROM products`,
    );
    const shoppers = await db.query<{ id: number }>(`SELECT id FROM users ORDER BY id LIMIT 1000`);
    const popular = await db.query<{ id: number }>(
      `UPDATE products SET stock_quantity = $2, updated_at = now()
        WHERE id IN (SELECT id FROM products WHERE deleted_at IS NULL ORDER BY id LIMIT $1)
        RETURNING id`,
      [POPULAR, POPULAR_STOCK],
    );
    return {
      url,
      drop,
      ids: ids.rows[0]!,
      shopperIds: shoppers.rows.map((row) => row.id),
      popularIds: popular.rows.map((row) => row.id).sort((a, b) => a - b),
    };
  } finally {
    await db.close();
  }
}

/** Outbox jobs not finished, by status: pending, running (claimed) and dead (failed for good). */
export async function outboxBacklog(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; count: number }>(
      `SELECT status, count(*)::int AS count FROM outbox_jobs WHERE status NOT IN ('done', 'published') GROUP BY status ORDER BY status`,
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
  } finally {
    await client.end();
  }
}
