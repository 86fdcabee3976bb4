import type { Queryable } from '../../platform/db/index.js';

/** The SQL that changes products. Deleted products (deleted_at set) are never changed again. */

export interface NewProduct {
  name: string;
  description: string;
  price: string;
  stockQuantity: number;
  categoryId: number;
}

export async function insertProduct(db: Queryable, product: NewProduct): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO products (name, description, price, stock_quantity, category_id)
     VALUES ($1, $2, $3::numeric, $4, $5) RETURNING id`,
    [product.name, product.description, product.price, product.stockQuantity, product.categoryId],
  );
  return (rows[0] as { id: number }).id;
}

export type ProductChanges = Partial<NewProduct>;

/** Returns false when no live product has this id. */
export async function updateProduct(db: Queryable, id: number, changes: ProductChanges): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE products SET
       name = coalesce($2, name),
       description = coalesce($3, description),
       price = coalesce($4::numeric, price),
       stock_quantity = coalesce($5::integer, stock_quantity),
       category_id = coalesce($6::integer, category_id),
       updated_at = now()
     WHERE id = $1 AND deleted_at IS NULL`,
    [
      id,
      changes.name ?? null,
      changes.description ?? null,
      changes.price ?? null,
      changes.stockQuantity ?? null,
      changes.categoryId ?? null,
    ],
  );
  return rowCount > 0;
}

export async function softDeleteProduct(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE products SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL',
    [id],
  );
  return rowCount > 0;
}

/**
 * Moves a live product's rating aggregates by the given amounts in one atomic UPDATE: concurrent reviews queue
 * on the row lock and each adds to the committed value, so no update is lost. Returns false when no live
 * product has this id.
 */
export async function adjustRating(
  db: Queryable,
  id: number,
  sumDelta: number,
  countDelta: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE products SET rating_sum = rating_sum + $2, rating_count = rating_count + $3
     WHERE id = $1 AND deleted_at IS NULL`,
    [id, sumDelta, countDelta],
  );
  return rowCount > 0;
}
