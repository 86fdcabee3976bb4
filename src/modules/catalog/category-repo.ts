import type { Queryable } from '../../platform/db/index.js';

/** The SQL of the category tree. */

export interface CategoryRow {
  id: number;
  name: string;
  parent_id: number | null;
  created_at: Date;
  updated_at: Date;
}

export async function listCategories(db: Queryable): Promise<CategoryRow[]> {
  const { rows } = await db.query<CategoryRow>(
    'SELECT id, name, parent_id, created_at, updated_at FROM categories ORDER BY id',
  );
  return rows;
}

export interface CategoryDetailRow extends CategoryRow {
  children: { id: number; name: string }[];
  path: { id: number; name: string }[];
}

/** A category with its children and its path from the root, in one round trip. */
export async function findCategory(db: Queryable, id: number): Promise<CategoryDetailRow | undefined> {
  const { rows } = await db.query<CategoryDetailRow>(
    `WITH RECURSIVE ancestors AS (
       SELECT id, name, parent_id, 0 AS depth FROM categories WHERE id = $1
       UNION ALL
       SELECT c.id, c.name, c.parent_id, a.depth + 1 FROM categories c JOIN ancestors a ON c.id = a.parent_id
     )
     SELECT c.id, c.name, c.parent_id, c.created_at, c.updated_at,
       coalesce((SELECT json_agg(json_build_object('id', k.id, 'name', k.name) ORDER BY k.name, k.id)
                 FROM categories k WHERE k.parent_id = c.id), '[]'::json) AS children,
       (SELECT json_agg(json_build_object('id', a.id, 'name', a.name) ORDER BY a.depth DESC)
          FROM ancestors a) AS path
     FROM categories c WHERE c.id = $1`,
    [id],
  );
  return rows[0];
}

export async function categoryExists(db: Queryable, id: number): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM categories WHERE id = $1', [id]);
  return rows.length > 0;
}

export async function insertCategory(db: Queryable, name: string, parentId: number | null): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    'INSERT INTO categories (name, parent_id) VALUES ($1, $2) RETURNING id',
    [name, parentId],
  );
  return (rows[0] as { id: number }).id;
}

export interface CategoryChanges {
  name?: string;
  parentId?: number | null;
}

/** Returns false when the category does not exist. */
export async function updateCategory(db: Queryable, id: number, changes: CategoryChanges): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE categories SET
       name = CASE WHEN $2 THEN $3 ELSE name END,
       parent_id = CASE WHEN $4 THEN $5::integer ELSE parent_id END,
       updated_at = now()
     WHERE id = $1`,
    [
      id,
      changes.name !== undefined,
      changes.name ?? null,
      changes.parentId !== undefined,
      changes.parentId ?? null,
    ],
  );
  return rowCount > 0;
}

/**
 * Serialises moves in the tree: two concurrent moves (A under B, B under A) could each pass the cycle check
 * alone. Readers are not blocked; category writes are rare.
 */
export async function lockTree(tx: Queryable): Promise<void> {
  await tx.query('LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE');
}

/** Whether ancestorId is candidateId itself or one of its ancestors (walking up from candidateId). */
export async function isSelfOrAncestor(
  db: Queryable,
  ancestorId: number,
  candidateId: number,
): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `WITH RECURSIVE up AS (
       SELECT id, parent_id FROM categories WHERE id = $2
       UNION ALL SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id
     )
     SELECT EXISTS (SELECT 1 FROM up WHERE id = $1) AS found`,
    [ancestorId, candidateId],
  );
  return rows[0]?.found === true;
}

/** What still hangs off a category: its products (deleted ones too, kept for order history) and children. */
export async function categoryUsage(
  db: Queryable,
  id: number,
): Promise<{ products: boolean; children: boolean }> {
  const { rows } = await db.query<{ products: boolean; children: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM products WHERE category_id = $1) AS products,
            EXISTS (SELECT 1 FROM categories WHERE parent_id = $1) AS children`,
    [id],
  );
  return rows[0] ?? { products: false, children: false };
}

export async function deleteCategory(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM categories WHERE id = $1', [id]);
  return rowCount > 0;
}
