import type { Queryable } from '../../platform/db/index.js';

export interface ImageRow {
  id: number;
  product_id: number;
  status: 'processing' | 'ready' | 'failed';
  content_type: string;
  original_path: string;
  thumbnail_path: string | null;
  thumbnail_webp_path: string | null;
  failure_reason: string | null;
}

export async function insertImage(
  tx: Queryable,
  image: { productId: number; contentType: string; originalPath: string },
): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO product_images (product_id, content_type, original_path) VALUES ($1, $2, $3) RETURNING id`,
    [image.productId, image.contentType, image.originalPath],
  );
  return (rows[0] as { id: number }).id;
}

export async function findImage(db: Queryable, id: number): Promise<ImageRow | null> {
  const { rows } = await db.query<ImageRow>(
    `SELECT id, product_id, status, content_type, original_path, thumbnail_path, thumbnail_webp_path,
            failure_reason
       FROM product_images WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export async function markReady(
  db: Queryable,
  id: number,
  paths: { jpeg: string; webp: string },
): Promise<void> {
  await db.query(
    `UPDATE product_images
        SET status = 'ready', thumbnail_path = $2, thumbnail_webp_path = $3, failure_reason = NULL,
            updated_at = now()
      WHERE id = $1`,
    [id, paths.jpeg, paths.webp],
  );
}

export async function markFailed(db: Queryable, id: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE product_images SET status = 'failed', failure_reason = $2, updated_at = now()
      WHERE id = $1 AND status = 'processing'`,
    [id, reason.slice(0, 500)],
  );
}
