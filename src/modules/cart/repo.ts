import type { Queryable } from '../../platform/db/index.js';

/** The cart's SQL. Every statement on an item is scoped by the owner's user id: another user's item is absent. */

export interface CartItemRow {
  id: number;
  product_id: number;
  quantity: number;
}

export async function findCartId(db: Queryable, userId: number): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>('SELECT id FROM shopping_carts WHERE user_id = $1', [
    userId,
  ]);
  return rows[0]?.id;
}

/** The user's cart, created on first use (one per user: the unique user_id settles a race). */
export async function ensureCart(db: Queryable, userId: number): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO shopping_carts (user_id) VALUES ($1)
     ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
     RETURNING id`,
    [userId],
  );
  return (rows[0] as { id: number }).id;
}

export async function listItems(db: Queryable, cartId: number): Promise<CartItemRow[]> {
  const { rows } = await db.query<CartItemRow>(
    'SELECT id, product_id, quantity FROM cart_items WHERE cart_id = $1 ORDER BY id',
    [cartId],
  );
  return rows;
}

/** Adds to the product's line, creating it if needed; the CHECK (quantity <= 999) refuses a sum above 999. */
export async function addToLine(
  db: Queryable,
  cartId: number,
  productId: number,
  quantity: number,
): Promise<CartItemRow> {
  const { rows } = await db.query<CartItemRow>(
    `INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)
     ON CONFLICT (cart_id, product_id)
     DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity, updated_at = now()
     RETURNING id, product_id, quantity`,
    [cartId, productId, quantity],
  );
  return rows[0] as CartItemRow;
}

export async function setQuantity(
  db: Queryable,
  userId: number,
  itemId: number,
  quantity: number,
): Promise<CartItemRow | undefined> {
  const { rows } = await db.query<CartItemRow>(
    `UPDATE cart_items ci SET quantity = $3, updated_at = now()
       FROM shopping_carts c
      WHERE ci.id = $2 AND ci.cart_id = c.id AND c.user_id = $1
      RETURNING ci.id, ci.product_id, ci.quantity`,
    [userId, itemId, quantity],
  );
  return rows[0];
}

export async function deleteItem(db: Queryable, userId: number, itemId: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM cart_items ci USING shopping_carts c
      WHERE ci.id = $2 AND ci.cart_id = c.id AND c.user_id = $1`,
    [userId, itemId],
  );
  return rowCount > 0;
}

export async function deleteAllItems(db: Queryable, cartId: number): Promise<void> {
  await db.query('DELETE FROM cart_items WHERE cart_id = $1', [cartId]);
}

/**
 * The cart row locked for a checkout, with its lines: a second checkout of the same user (another key) waits
 * on the lock and then finds the cart already emptied, so one cart never becomes two orders. The lines are read
 * by a second statement on purpose: in READ COMMITTED a statement that waited for a lock still sees the rows
 * of its own snapshot (from before the first checkout committed) for every table it did not lock.
 */
export async function lockCartLines(
  tx: Queryable,
  userId: number,
): Promise<{ cartId: number; lines: { product_id: number; quantity: number }[] } | undefined> {
  const { rows } = await tx.query<{ id: number }>(
    'SELECT id FROM shopping_carts WHERE user_id = $1 FOR UPDATE',
    [userId],
  );
  const cartId = rows[0]?.id;
  if (cartId === undefined) return undefined;
  const lines = await tx.query<{ product_id: number; quantity: number }>(
    'SELECT product_id, quantity FROM cart_items WHERE cart_id = $1',
    [cartId],
  );
  return { cartId, lines: lines.rows };
}
