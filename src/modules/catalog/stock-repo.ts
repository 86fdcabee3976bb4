import { prepared, type Queryable, type Transaction } from '../../platform/db/index.js';

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
 * first shared row instead of each holding a row the other needs (a deadlock). NO KEY UPDATE is the strength
 * an UPDATE of stock takes anyway, and unlike FOR UPDATE it does not conflict with the KEY SHARE locks that
 * inserting order_items (a foreign key to products) takes: checkouts that each inserted their lines before
 * taking stock would otherwise deadlock on the upgrade.
 */
const LOCK_PRODUCTS = prepared(
  `SELECT id, name, price::text AS price, stock_quantity, deleted_at IS NOT NULL AS deleted
     FROM products WHERE id = ANY($1::int[])
    ORDER BY id
      FOR NO KEY UPDATE`,
);

export async function lockProducts(tx: Queryable, ids: readonly number[]): Promise<LockedProduct[]> {
  const { rows } = await tx.query<LockedProduct>(LOCK_PRODUCTS, [ids]);
  return rows;
}

/**
 * Decrements stock of rows this transaction has locked (lockProducts), each only if it covers its quantity
 * (the CHECK (stock_quantity >= 0) stands behind it); decrementStock checks that every row was. It must be a
 * statement of its own, after the lock (in a later message when deferred, with a snapshot of its own either
 * way): its snapshot then holds the versions locked, whereas an UPDATE in the locking statement reads the
 * versions from before a wait and, following their update chains, queues behind other waiters for rows it
 * already holds. Under a flash sale that queue closed into deadlocks.
 */
const DECREMENT_STOCK = prepared(
  `UPDATE products p
      SET stock_quantity = p.stock_quantity - w.quantity, updated_at = now()
     FROM unnest($1::int[], $2::int[]) AS w(id, quantity)
    WHERE p.id = w.id AND p.stock_quantity >= w.quantity AND p.deleted_at IS NULL`,
);

/**
 * Sent with the caller's next statement (Transaction.defer: its answer is not needed before): the transaction
 * fails unless every row was decremented, which cannot happen while the rows stay locked and checked.
 */
export function decrementStock(tx: Transaction, ids: readonly number[], quantities: readonly number[]): void {
  void tx.defer(DECREMENT_STOCK, [ids, quantities], ({ rowCount }) => {
    if (rowCount !== ids.length) throw new Error(`Stock changed under a lock (${rowCount}/${ids.length})`);
  });
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

const FIND_PRICES = prepared(
  `SELECT id, name, price::text AS price, stock_quantity, deleted_at IS NULL AS available
     FROM products WHERE id = ANY($1::int[])`,
);

export async function findPrices(db: Queryable, ids: readonly number[]): Promise<ProductPrice[]> {
  const { rows } = await db.query<ProductPrice>(FIND_PRICES, [ids]);
  return rows;
}
