import { prepared, type Queryable } from '../../platform/db/index.js';

/** The cart's SQL. Every statement on an item is scoped by the owner's user id: another user's item is absent. */

export interface CartItemRow {
  id: number;
  product_id: number;
  quantity: number;
}

const FIND_CART = prepared('SELECT id FROM shopping_carts WHERE user_id = $1');

export async function findCartId(db: Queryable, userId: number): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>(FIND_CART, [userId]);
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

/**
 * Adds to the product's line of the user's cart, creating the cart and the line as needed, in one statement;
 * the CHECK (quantity <= 999) refuses a sum above 999. An existing cart row is only read, never rewritten; two
 * first adds at once settle on the unique user_id.
 */
const ADD_TO_LINE = prepared(
  `WITH existing AS (
     SELECT id FROM shopping_carts WHERE user_id = $1
   ), created AS (
     INSERT INTO shopping_carts (user_id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM existing)
     ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
     RETURNING id
   ), cart AS (
     SELECT id FROM existing UNION ALL SELECT id FROM created
   )
   INSERT INTO cart_items (cart_id, product_id, quantity)
   SELECT cart.id, $2, $3 FROM cart
   ON CONFLICT (cart_id, product_id)
   DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity, updated_at = now()
   RETURNING id, product_id, quantity`,
);

export async function addToLine(
  db: Queryable,
  userId: number,
  productId: number,
  quantity: number,
): Promise<CartItemRow> {
  const { rows } = await db.query<CartItemRow>(ADD_TO_LINE, [userId, productId, quantity]);
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
 * For a checkout, in its transaction: deletes the cart's lines and returns them, in one statement. The deleted
 * rows stay locked until the checkout ends: a second checkout of the same user (another key) waits for them,
 * then finds them gone (an empty cart), so one cart never becomes two orders; a checkout that fails gives them
 * back with its rollback. A line added meanwhile is not in this checkout's snapshot and stays in the cart.
 */
const TAKE_LINES = prepared(
  `DELETE FROM cart_items ci USING shopping_carts c
    WHERE c.user_id = $1 AND ci.cart_id = c.id
   RETURNING ci.product_id, ci.quantity`,
);

export async function takeLines(
  tx: Queryable,
  userId: number,
): Promise<{ product_id: number; quantity: number }[]> {
  const { rows } = await tx.query<{ product_id: number; quantity: number }>(TAKE_LINES, [userId]);
  return rows;
}
