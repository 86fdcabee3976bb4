import type { Queryable } from '../../platform/db/index.js';

/** The SQL of wishlists: one per user, created with its first item. */

export interface WishlistItemRow {
  id: number;
  product_id: number;
  created_at: Date;
}

/** The user's wishlist id, creating the wishlist on first use (safe when two requests race to create it). */
export async function ensureWishlist(db: Queryable, userId: number): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO wishlists (user_id) VALUES ($1)
     ON CONFLICT (user_id) DO UPDATE SET updated_at = now() RETURNING id`,
    [userId],
  );
  return (rows[0] as { id: number }).id;
}

/** Adds a product; `created` is false when it was already there (the existing item is returned). */
export async function addItem(
  db: Queryable,
  wishlistId: number,
  productId: number,
): Promise<{ item: WishlistItemRow; created: boolean }> {
  const inserted = await db.query<WishlistItemRow>(
    `INSERT INTO wishlist_items (wishlist_id, product_id) VALUES ($1, $2)
     ON CONFLICT (wishlist_id, product_id) DO NOTHING RETURNING id, product_id, created_at`,
    [wishlistId, productId],
  );
  if (inserted.rows[0]) return { item: inserted.rows[0], created: true };
  const existing = await db.query<WishlistItemRow>(
    'SELECT id, product_id, created_at FROM wishlist_items WHERE wishlist_id = $1 AND product_id = $2',
    [wishlistId, productId],
  );
  return { item: existing.rows[0] as WishlistItemRow, created: false };
}

/** A user's items, newest first, before the item id of the cursor. */
export async function listItems(
  db: Queryable,
  userId: number,
  beforeId: number | null,
  limit: number,
): Promise<WishlistItemRow[]> {
  const { rows } = await db.query<WishlistItemRow>(
    `SELECT i.id, i.product_id, i.created_at
     FROM wishlists w JOIN wishlist_items i ON i.wishlist_id = w.id
     WHERE w.user_id = $1 AND ($2::integer IS NULL OR i.id < $2)
     ORDER BY i.id DESC LIMIT $3`,
    [userId, beforeId, limit],
  );
  return rows;
}

export async function removeItem(db: Queryable, userId: number, productId: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM wishlist_items i USING wishlists w
     WHERE i.wishlist_id = w.id AND w.user_id = $1 AND i.product_id = $2`,
    [userId, productId],
  );
  return rowCount > 0;
}
