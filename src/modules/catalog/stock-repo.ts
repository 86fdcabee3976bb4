import type { Queryable } from '../../platform/db/index.js';

/** The SQL behind stock.ts: row locks in id order, conditional decrements, restocks, current prices. */

export interface LockedProduct {
  id: number;
  name: string;
  price: string;
  stock_quantity: number;
  deleted: boolean;
}

/**
 * Locks the products' rows, always in ascending id order: two checkouts that share products then queue on the
 * first shared row instead of each holding a row the other needs (a deadlock).
 */
export async function lockProducts(tx: Queryable, ids: readonly number[]): Promise<LockedProduct[]> {
  const { rows } = await tx.query<LockedProduct>(
    `SELECT id, name, price::text AS price, stock_quantity, deleted_at IS NOT NULL AS deleted
       FROM products WHERE id = ANY($1::int[])
      ORDER BY id
        FOR UPDATE`,
    [ids],
  );
  return rows;
}

/** The conditional decrement: a row changes only if it still holds enough, so stock can never go negative. */
export async function decrementStock(
  tx: Queryable,
  ids: readonly number[],
  quantities: readonly number[],
): Promise<number> {
  const { rowCount } = await tx.query(
    `UPDATE products p
        SET stock_quantity = p.stock_quantity - l.quantity, updated_at = now()
       FROM unnest($1::int[], $2::int[]) AS l(id, quantity)
      WHERE p.id = l.id AND p.stock_quantity >= l.quantity AND p.deleted_at IS NULL`,
    [ids, quantities],
  );
  return rowCount;
}

export async function incrementStock(
  tx: Queryable,
  ids: readonly number[],
  quantities: readonly number[],
): Promise<void> {
  await tx.query(
    `UPDATE products p
        SET stock_quantity = p.stock_quantity + l.quantity, updated_at = now()
       FROM unnest($1::int[], $2::int[]) AS l(id, quantity)
      WHERE p.id = l.id`,
    [ids, quantities],
  );
}

export interface ProductPrice {
  id: number;
  name: string;
  price: string;
  stock_quantity: number;
  available: boolean;
}

export async function findPrices(db: Queryable, ids: readonly number[]): Promise<ProductPrice[]> {
  const { rows } = await db.query<ProductPrice>(
    `SELECT id, name, price::text AS price, stock_quantity, deleted_at IS NULL AS available
       FROM products WHERE id = ANY($1::int[])`,
    [ids],
  );
  return rows;
}
