import type { Queryable } from '../../src/platform/db/index.js';

/** Rows for tests, written straight to the database so a test states exactly the world it needs. */

export async function insertCategory(
  db: Queryable,
  name: string,
  parentId: number | null = null,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    'INSERT INTO categories (name, parent_id) VALUES ($1, $2) RETURNING id',
    [name, parentId],
  );
  return (rows[0] as { id: number }).id;
}

export interface ProductFixture {
  name?: string;
  description?: string;
  price?: string;
  stock?: number;
  categoryId: number;
  createdAt?: string;
}

export async function insertProduct(db: Queryable, product: ProductFixture): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO products (name, description, price, stock_quantity, category_id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, coalesce($6::timestamptz, now()), coalesce($6::timestamptz, now())) RETURNING id`,
    [
      product.name ?? 'Test product',
      product.description ?? '',
      product.price ?? '10.00',
      product.stock ?? 10,
      product.categoryId,
      product.createdAt ?? null,
    ],
  );
  return (rows[0] as { id: number }).id;
}

let userCounter = 0;

/** A user row with an unusable password hash (tests that log in create users through the API instead). */
export async function insertUser(
  db: Queryable,
  role: 'customer' | 'manager' | 'admin' = 'customer',
): Promise<{ id: number; role: typeof role }> {
  userCounter += 1;
  const name = `user${process.pid}_${userCounter}_${Math.random().toString(36).slice(2, 8)}`;
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO users (username, email, password, role) VALUES ($1, $2, 'not-a-hash', $3) RETURNING id`,
    [name, `${name}@example.com`, role],
  );
  return { id: (rows[0] as { id: number }).id, role };
}
