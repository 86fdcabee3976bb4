import type { Queryable } from '../../platform/db/index.js';
import type { CursorKind, CursorValue } from '../../platform/http/cursor.js';

/** The catalog's SQL. Every listing reads live products only (deleted_at IS NULL) through partial indexes. */

export interface CategoryRow {
  id: number;
  name: string;
  parent_id: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface ProductListRow {
  id: number;
  name: string;
  price: string;
  stock_quantity: number;
  category_id: number;
  rating_average: string;
  rating_count: number;
  thumbnail_path: string | null;
  created_at: Date;
  updated_at: Date;
  cursor_key: string;
}

export interface ProductDetailRow {
  id: number;
  name: string;
  description: string;
  price: string;
  stock_quantity: number;
  category: { id: number; name: string };
  rating_average: string;
  rating_count: number;
  images: {
    id: number;
    status: 'processing' | 'ready' | 'failed';
    original_path: string;
    thumbnail_path: string | null;
  }[];
  created_at: Date;
  updated_at: Date;
}

export const SORTS = {
  created_at: { column: 'p.created_at', kind: 'timestamp', descending: false },
  '-created_at': { column: 'p.created_at', kind: 'timestamp', descending: true },
  price: { column: 'p.price', kind: 'decimal', descending: false },
  '-price': { column: 'p.price', kind: 'decimal', descending: true },
  name: { column: 'p.name', kind: 'text', descending: false },
  '-name': { column: 'p.name', kind: 'text', descending: true },
  '-rating': { column: 'p.rating_avg', kind: 'decimal', descending: true },
} as const satisfies Record<string, { column: string; kind: CursorKind; descending: boolean }>;

export type ProductSort = keyof typeof SORTS;

/** The sort column rendered as text that round-trips exactly (timestamps keep their microseconds). */
function cursorKeyExpression(sort: ProductSort): string {
  const { column, kind } = SORTS[sort];
  if (kind === 'timestamp') return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  return `${column}::text`;
}

const CAST: Record<CursorKind, string> = {
  timestamp: 'timestamptz',
  decimal: 'numeric',
  text: 'text',
  int: 'integer',
};

export interface ProductFilter {
  categoryId?: number;
  q?: string;
  minPrice?: string;
  maxPrice?: string;
  inStock?: boolean;
}

export async function listProducts(
  db: Queryable,
  filter: ProductFilter,
  sort: ProductSort,
  after: CursorValue[] | null,
  limit: number,
): Promise<ProductListRow[]> {
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = ['p.deleted_at IS NULL'];
  let tree = '';
  if (filter.categoryId !== undefined) {
    tree = `WITH RECURSIVE tree AS (
        SELECT id FROM categories WHERE id = ${bind(filter.categoryId)}
        UNION ALL SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id
      ) `;
    where.push('p.category_id IN (SELECT id FROM tree)');
  }
  if (filter.q !== undefined) where.push(`p.search @@ websearch_to_tsquery('english', ${bind(filter.q)})`);
  if (filter.minPrice !== undefined) where.push(`p.price >= ${bind(filter.minPrice)}::numeric`);
  if (filter.maxPrice !== undefined) where.push(`p.price <= ${bind(filter.maxPrice)}::numeric`);
  if (filter.inStock) where.push('p.stock_quantity > 0');

  const { column, kind, descending } = SORTS[sort];
  if (after !== null) {
    where.push(
      `(${column}, p.id) ${descending ? '<' : '>'} (${bind(after[0])}::${CAST[kind]}, ${bind(after[1])}::integer)`,
    );
  }
  const direction = descending ? 'DESC' : 'ASC';
  const sql = `${tree}SELECT p.id, p.name, p.price::text AS price, p.stock_quantity, p.category_id,
      p.rating_avg::text AS rating_average, p.rating_count, p.created_at, p.updated_at,
      ${cursorKeyExpression(sort)} AS cursor_key,
      (SELECT i.thumbnail_path FROM product_images i
        WHERE i.product_id = p.id AND i.status = 'ready' ORDER BY i.id LIMIT 1) AS thumbnail_path
    FROM products p
    WHERE ${where.join(' AND ')}
    ORDER BY ${column} ${direction}, p.id ${direction}
    LIMIT ${bind(limit)}`;
  const { rows } = await db.query<ProductListRow>(sql, params);
  return rows;
}

export async function findProduct(db: Queryable, id: number): Promise<ProductDetailRow | undefined> {
  const { rows } = await db.query<ProductDetailRow>(
    `SELECT p.id, p.name, p.description, p.price::text AS price, p.stock_quantity,
       json_build_object('id', c.id, 'name', c.name) AS category,
       p.rating_avg::text AS rating_average, p.rating_count, p.created_at, p.updated_at,
       coalesce((SELECT json_agg(json_build_object('id', i.id, 'status', i.status,
                   'original_path', i.original_path, 'thumbnail_path', i.thumbnail_path) ORDER BY i.id)
                 FROM product_images i WHERE i.product_id = p.id), '[]'::json) AS images
     FROM products p JOIN categories c ON c.id = p.category_id
     WHERE p.id = $1 AND p.deleted_at IS NULL`,
    [id],
  );
  return rows[0];
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
