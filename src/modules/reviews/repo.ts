import type { Queryable } from '../../platform/db/index.js';

/** The SQL of reviews. */

export interface ReviewRow {
  id: number;
  product_id: number;
  user_id: number;
  rating: number;
  comment: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, product_id, user_id, rating::integer AS rating, comment, created_at, updated_at';

/** A product's reviews, newest first, after the review id of the cursor (keyset on reviews_product_id_idx). */
export async function listReviews(
  db: Queryable,
  productId: number,
  beforeId: number | null,
  limit: number,
): Promise<ReviewRow[]> {
  const { rows } = await db.query<ReviewRow>(
    `SELECT ${COLUMNS} FROM reviews
     WHERE product_id = $1 AND ($2::integer IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [productId, beforeId, limit],
  );
  return rows;
}

export async function insertReview(
  db: Queryable,
  review: { productId: number; userId: number; rating: number; comment: string },
): Promise<ReviewRow> {
  const { rows } = await db.query<ReviewRow>(
    `INSERT INTO reviews (product_id, user_id, rating, comment) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [review.productId, review.userId, review.rating, review.comment],
  );
  return rows[0] as ReviewRow;
}

/**
 * Locks a review for a change: by its author (authorId given) or by anyone (null, for moderators). The row
 * lock makes a concurrent edit of the same review wait, so the rating delta is computed from the committed
 * value.
 */
export async function lockReview(
  db: Queryable,
  id: number,
  authorId: number | null,
): Promise<ReviewRow | undefined> {
  const { rows } = await db.query<ReviewRow>(
    `SELECT ${COLUMNS} FROM reviews WHERE id = $1 AND ($2::integer IS NULL OR user_id = $2) FOR UPDATE`,
    [id, authorId],
  );
  return rows[0];
}

export async function updateReview(
  db: Queryable,
  id: number,
  changes: { rating?: number; comment?: string },
): Promise<ReviewRow> {
  const { rows } = await db.query<ReviewRow>(
    `UPDATE reviews SET rating = coalesce($2::smallint, rating), comment = coalesce($3, comment),
       updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, changes.rating ?? null, changes.comment ?? null],
  );
  return rows[0] as ReviewRow;
}

export async function deleteReview(db: Queryable, id: number): Promise<void> {
  await db.query('DELETE FROM reviews WHERE id = $1', [id]);
}
