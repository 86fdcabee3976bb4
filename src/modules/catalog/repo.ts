import { prepared, type Queryable } from '../../platform/db/index.js';
import type { CursorKind, CursorValue } from '../../platform/http/cursor.js';

/** The catalog's SQL. Every listing reads live products only (deleted_at IS NULL) through partial indexes. */

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
} as const satisfies Record<string, SortSpec>;

interface SortSpec {
  column: string;
  kind: CursorKind;
  descending: boolean;
}

/** The public sorts, and `relevance`: the order of a `q` search that names no sort (best match first). */
export type ProductSort = keyof typeof SORTS | 'relevance';

const QUERY = (param: string) => `websearch_to_tsquery('english', ${param})`;

/**
 * Relevance: ts_rank normalised into [0, 1) (flag 32) and rounded to six decimals, so the value in a cursor
 * is an exact decimal that compares equal to the one recomputed on the next page: a stable keyset.
 */
const rankExpression = (queryParam: string) =>
  `round(ts_rank(p.search, ${QUERY(queryParam)}, 32)::numeric, 6)`;

function sortSpec(sort: ProductSort, queryParam: string | null): SortSpec {
  if (sort !== 'relevance') return SORTS[sort];
  if (queryParam === null) throw new Error('relevance needs a search query');
  return { column: rankExpression(queryParam), kind: 'score', descending: true };
}

export function cursorKind(sort: ProductSort): CursorKind {
  return sort === 'relevance' ? 'score' : SORTS[sort].kind;
}

/** The sort key rendered as text that round-trips exactly (timestamps keep their microseconds). */
function cursorKeyExpression(spec: SortSpec): string {
  if (spec.kind === 'timestamp') {
    return `to_char(${spec.column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  }
  return `${spec.column}::text`;
}

const CAST: Record<CursorKind, string> = {
  timestamp: 'timestamptz',
  decimal: 'numeric',
  score: 'numeric',
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

const LIST_COLUMNS = `p.id, p.name, p.price, p.stock_quantity, p.category_id, p.rating_avg, p.rating_count,
  p.created_at, p.updated_at`;

/**
 * One page of live products. Two shapes, chosen by the filter:
 * - with `category_id` and no `q`: the subtree's categories are collected first and each one is read through
 *   its own (category_id, sort column, id) index from the cursor on, at most one page per category, and the
 *   pages are merged. The cost is (categories in the subtree) x (page size), whatever the depth of the page
 *   and however many products other branches hold.
 * - otherwise: one ordered scan of the (sort column, id) index from the cursor, or, for a search, the GIN
 *   index and a top-N sort of the matches; the planner picks by the selectivity of the filters.
 */
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
  const queryParam = filter.q === undefined ? null : bind(filter.q);
  const spec = sortSpec(sort, queryParam);
  const where = ['p.deleted_at IS NULL'];
  if (queryParam !== null) where.push(`p.search @@ ${QUERY(queryParam)}`);
  if (filter.minPrice !== undefined) where.push(`p.price >= ${bind(filter.minPrice)}::numeric`);
  if (filter.maxPrice !== undefined) where.push(`p.price <= ${bind(filter.maxPrice)}::numeric`);
  if (filter.inStock) where.push('p.stock_quantity > 0');
  const comparison = spec.descending ? '<' : '>';
  if (after !== null) {
    where.push(
      `(${spec.column}, p.id) ${comparison} (${bind(after[0])}::${CAST[spec.kind]}, ${bind(after[1])}::integer)`,
    );
  }
  const direction = spec.descending ? 'DESC' : 'ASC';
  const order = (prefix: string) => `ORDER BY ${prefix}sort_key ${direction}, ${prefix}id ${direction}`;
  const limitParam = bind(limit);
  const rows = `SELECT ${LIST_COLUMNS}, ${spec.column} AS sort_key, ${cursorKeyExpression(spec)} AS cursor_key
    FROM products p`;

  let tree = '';
  let page: string;
  if (filter.categoryId === undefined) {
    page = `${rows} WHERE ${where.join(' AND ')} ${order('')} LIMIT ${limitParam}`;
  } else {
    tree = `WITH RECURSIVE tree AS (
        SELECT id FROM categories WHERE id = ${bind(filter.categoryId)}
        UNION SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id
      ) `;
    page =
      queryParam === null
        ? `SELECT l.* FROM tree CROSS JOIN LATERAL (
             ${rows} WHERE p.category_id = tree.id AND ${where.join(' AND ')} ${order('')} LIMIT ${limitParam}
           ) l ${order('l.')} LIMIT ${limitParam}`
        : `${rows} WHERE p.category_id IN (SELECT id FROM tree) AND ${where.join(' AND ')}
           ${order('')} LIMIT ${limitParam}`;
  }
  // Formatting and the thumbnail look-up run on the page's rows only, after the limit.
  const sql = `${tree}SELECT page.id, page.name, page.price::text AS price, page.stock_quantity, page.category_id,
      page.rating_avg::text AS rating_average, page.rating_count, page.created_at, page.updated_at,
      page.cursor_key,
      (SELECT i.thumbnail_path FROM product_images i
        WHERE i.product_id = page.id AND i.status = 'ready' ORDER BY i.id LIMIT 1) AS thumbnail_path
    FROM (${page}) page
    ${order('page.')}`;
  const { rows: result } = await db.query<ProductListRow>(sql, params);
  return result;
}

export async function findProduct(db: Queryable, id: number): Promise<ProductDetailRow | undefined> {
  const { rows } = await db.query<ProductDetailRow>(
    prepared(`SELECT p.id, p.name, p.description, p.price::text AS price, p.stock_quantity,
       json_build_object('id', c.id, 'name', c.name) AS category,
       p.rating_avg::text AS rating_average, p.rating_count, p.created_at, p.updated_at,
       coalesce((SELECT json_agg(json_build_object('id', i.id, 'status', i.status,
                   'original_path', i.original_path, 'thumbnail_path', i.thumbnail_path) ORDER BY i.id)
                 FROM product_images i WHERE i.product_id = p.id), '[]'::json) AS images
     FROM products p JOIN categories c ON c.id = p.category_id
     WHERE p.id = $1 AND p.deleted_at IS NULL`),
    [id],
  );
  return rows[0];
}

/** List rows of the live products among ids, in no particular order (deleted and unknown ids are left out). */
export async function findLiveProducts(db: Queryable, ids: number[]): Promise<ProductListRow[]> {
  const { rows } = await db.query<ProductListRow>(
    prepared(`SELECT p.id, p.name, p.price::text AS price, p.stock_quantity, p.category_id,
       p.rating_avg::text AS rating_average, p.rating_count, p.created_at, p.updated_at, '' AS cursor_key,
       (SELECT i.thumbnail_path FROM product_images i
         WHERE i.product_id = p.id AND i.status = 'ready' ORDER BY i.id LIMIT 1) AS thumbnail_path
     FROM products p WHERE p.id = ANY($1::integer[]) AND p.deleted_at IS NULL`),
    [ids],
  );
  return rows;
}

const IS_LIVE = prepared('SELECT 1 FROM products WHERE id = $1 AND deleted_at IS NULL');

export async function isLiveProduct(db: Queryable, id: number): Promise<boolean> {
  const { rows } = await db.query(IS_LIVE, [id]);
  return rows.length > 0;
}
