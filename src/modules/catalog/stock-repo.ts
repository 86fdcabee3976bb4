import { prepared, type Queryable } from '../../platform/db/index.js';

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

export interface TakeResult {
  /** The products' rows as locked (before the decrement), in id order. */
  locked: LockedProduct[];
  /** Rows decremented: every wanted line, or none when one was short. */
  taken: number;
}

/**
 * Takes stock for every line or for none, in one statement: the rows are locked in ascending id order (see
 * lockProducts), checked, and decremented only if every line is covered; the conditional decrement and the
 * CHECK (stock_quantity >= 0) stand behind the check. In READ COMMITTED a row that was locked after a wait is
 * re-read at its latest version, both by the locking CTE and by the UPDATE, so the check and the decrement see
 * the stock that the previous buyer left.
 */
const TAKE_STOCK = prepared(
  `WITH wanted AS (
     SELECT * FROM unnest($1::int[], $2::int[]) AS w(id, quantity)
   ), locked AS (
     SELECT id, name, price::text AS price, stock_quantity, deleted_at IS NOT NULL AS deleted
       FROM products WHERE id = ANY($1::int[])
      ORDER BY id
        FOR NO KEY UPDATE
   ), covered AS (
     SELECT NOT EXISTS (
       SELECT 1 FROM wanted w LEFT JOIN locked l ON l.id = w.id
        WHERE l.id IS NULL OR l.deleted OR l.stock_quantity < w.quantity
     ) AS ok
   ), taken AS (
     UPDATE products p
        SET stock_quantity = p.stock_quantity - w.quantity, updated_at = now()
       FROM wanted w, covered
      WHERE covered.ok AND p.id = w.id AND p.stock_quantity >= w.quantity AND p.deleted_at IS NULL
      RETURNING p.id
   )
   SELECT (SELECT count(*)::int FROM taken) AS taken,
          coalesce((SELECT json_agg(locked ORDER BY locked.id) FROM locked), '[]'::json) AS locked`,
);

export async function takeStock(
  tx: Queryable,
  ids: readonly number[],
  quantities: readonly number[],
): Promise<TakeResult> {
  const { rows } = await tx.query<TakeResult>(TAKE_STOCK, [ids, quantities]);
  return rows[0] as TakeResult;
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
