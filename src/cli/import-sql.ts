/**
 * The SQL of `bazaar import`: staging tables that accept anything (every field text, the column count kept),
 * then validation in SQL that gives each bad row one reason, then the load of the good rows.
 *
 * The products' staging tables are unlogged ordinary tables, not temporary ones, so that PostgreSQL can read
 * them with parallel workers (a temporary table lives in one backend's memory): the check computes each good
 * row's search vector in parallel. They are created inside the import's transaction, so no other session ever
 * sees them, and dropped before it commits (a rollback or a crash takes them away too). Two imports at once
 * take turns at their creation.
 */

export const STAGING = {
  categories: {
    table: 'import_categories',
    columns: ['id', 'name', 'parent_id'],
    create: `CREATE TEMP TABLE import_categories (line integer, columns integer, id text, name text, parent_id text)
             ON COMMIT DROP`,
  },
  products: {
    table: 'import_products',
    columns: ['name', 'description', 'price', 'stock_quantity', 'category_id'],
    create: `CREATE UNLOGGED TABLE import_products (line integer, columns integer, name text, description text,
               price text, stock_quantity text, category_id text)`,
  },
} as const;

const ID = `'^[1-9][0-9]{0,8}$'`;

/** Each staged category with its problem (null when it is good), then the reachability of its root. */
export const CHECK_CATEGORIES = `
  CREATE TEMP TABLE import_categories_checked ON COMMIT DROP AS
  WITH RECURSIVE checked AS (
    SELECT s.line, s.id, s.name, s.parent_id,
      CASE
        WHEN s.columns <> 3 THEN format('expected 3 columns (id,name,parent_id), found %s', s.columns)
        WHEN s.id !~ ${ID} THEN format('id "%s" is not a positive integer', s.id)
        WHEN count(*) OVER (PARTITION BY s.id) > 1 THEN format('id %s appears more than once', s.id)
        WHEN char_length(coalesce(s.name, '')) NOT BETWEEN 1 AND 100 THEN 'name must be 1 to 100 characters'
        WHEN coalesce(s.parent_id, '') <> '' AND s.parent_id !~ ${ID}
          THEN format('parent_id "%s" is not empty or a positive integer', s.parent_id)
        WHEN s.parent_id = s.id THEN 'a category cannot be its own parent'
        WHEN count(*) OVER (PARTITION BY coalesce(s.parent_id, ''), lower(s.name)) > 1
          THEN format('another category under the same parent is also named "%s"', s.name)
      END AS problem
    FROM import_categories s
  ),
  reach AS (
    SELECT c.id FROM checked c
    WHERE c.problem IS NULL AND (coalesce(c.parent_id, '') = '' OR (
      NOT EXISTS (SELECT 1 FROM checked p WHERE p.id = c.parent_id)
      AND EXISTS (SELECT 1 FROM categories p WHERE p.id = c.parent_id::integer)))
    UNION
    SELECT c.id FROM checked c JOIN reach r ON c.parent_id = r.id WHERE c.problem IS NULL
  )
  SELECT c.line, CASE WHEN c.id ~ ${ID} THEN c.id::integer END AS id, c.name,
    CASE WHEN c.parent_id ~ ${ID} THEN c.parent_id::integer END AS parent_id,
    coalesce(c.problem,
      CASE
        WHEN c.id NOT IN (SELECT id FROM reach)
          THEN format('parent %s is unknown, rejected, or part of a cycle', c.parent_id)
        WHEN EXISTS (SELECT 1 FROM categories e
                     WHERE coalesce(e.parent_id, 0) = coalesce(nullif(c.parent_id, '')::integer, 0)
                       AND lower(e.name) = lower(c.name) AND e.id <> c.id::integer)
          THEN format('a category under the same parent is already named "%s"', c.name)
      END) AS problem
  FROM checked c`;

export const LOAD_CATEGORIES = `
  INSERT INTO categories (id, name, parent_id)
  SELECT id, name, parent_id FROM import_categories_checked WHERE problem IS NULL
  ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id, updated_at = now()`;

/** New categories carried their own ids: the identity continues after the largest. */
export const ADVANCE_CATEGORY_IDS = `
  SELECT setval(pg_get_serial_sequence('categories', 'id'), greatest(max(id), 1)) FROM categories`;

/**
 * Each staged product with its problem (null when it is good) and its search vector, computed here because
 * this statement runs in parallel and the load does not. Only rows whose text is within bounds get one (a
 * description far too long would fail to_tsvector and the whole statement, instead of being reported).
 *
 * The category is found by its id's text: only the canonical text of an id (no sign, no leading zero) can
 * equal it, so a row that finds its category (with an id that ${ID} allows) has a well-formed category_id,
 * and only the rows that find none pay for the pattern match that tells a malformed id from an unknown one.
 */
export const CHECK_PRODUCTS = `
  CREATE UNLOGGED TABLE import_products_checked AS
  SELECT s.line, s.name, coalesce(s.description, '') AS description, s.price, s.stock_quantity, s.category_id,
    CASE
      WHEN s.columns <> 5
        THEN format('expected 5 columns (name,description,price,stock_quantity,category_id), found %s', s.columns)
      WHEN char_length(coalesce(s.name, '')) NOT BETWEEN 1 AND 200 THEN 'name must be 1 to 200 characters'
      WHEN char_length(coalesce(s.description, '')) > 10000 THEN 'description must be at most 10000 characters'
      WHEN s.price !~ '^[0-9]{1,10}(\\.[0-9]{1,2})?$'
        THEN format('price "%s" is not an amount such as 19.99', s.price)
      WHEN s.price::numeric = 0 THEN 'price must be above 0'
      WHEN s.stock_quantity !~ '^[0-9]{1,9}$'
        THEN format('stock_quantity "%s" is not a whole number', s.stock_quantity)
      WHEN c.id IS NOT NULL THEN NULL
      WHEN s.category_id !~ ${ID} THEN format('category_id "%s" is not a positive integer', s.category_id)
      ELSE format('category %s does not exist', s.category_id)
    END AS problem,
    CASE WHEN char_length(s.name) BETWEEN 1 AND 200 AND char_length(coalesce(s.description, '')) <= 10000
      THEN products_search_vector(s.name, coalesce(s.description, ''))
    END AS search
  FROM import_products s
  LEFT JOIN categories c ON c.id::text = s.category_id AND c.id BETWEEN 1 AND 999999999`;

/** The good products, in file order; search is either left to the insert trigger or taken as computed. */
export const LOAD_PRODUCTS = (search: 'computed' | 'by trigger') => `
  INSERT INTO products (name, description, price, stock_quantity, category_id${search === 'computed' ? ', search' : ''})
  SELECT name, description, price::numeric, stock_quantity::integer, category_id::integer${search === 'computed' ? ', search' : ''}
  FROM import_products_checked WHERE problem IS NULL ORDER BY line`;

export const DROP_PRODUCTS_STAGING = 'DROP TABLE import_products, import_products_checked';

export const REJECTS = (table: string) => `
  SELECT line, problem, count(*) OVER ()::integer AS total FROM ${table}
  WHERE problem IS NOT NULL ORDER BY line LIMIT $1`;
