-- products.search becomes an ordinary column kept by triggers instead of a generated column, with the same
-- value: a generated column cannot be given a value, so `bazaar import` could only have it computed row by row
-- by its one INSERT. Now the import computes it in parallel while it validates the staged rows, and loads it
-- with the insert trigger disabled inside its own transaction (src/cli/products-bulk-load.ts). Every other
-- writer leaves search alone and the triggers compute it, as the generated column did; a write that sets search
-- itself is overridden, so the column always equals products_search_vector(name, description). DROP EXPRESSION
-- keeps the existing values and does not rewrite the table.
ALTER TABLE products ALTER COLUMN search DROP EXPRESSION;

-- The one definition of a product's search vector (the former generation expression), for the triggers and
-- the import. A plain SQL function: the planner inlines it, so it costs what the expression costs.
CREATE FUNCTION products_search_vector(name text, description text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT setweight(to_tsvector('english', name), 'A') || setweight(to_tsvector('english', description), 'B') $$;

CREATE FUNCTION products_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search := products_search_vector(NEW.name, NEW.description);
  RETURN NEW;
END
$$;

CREATE TRIGGER products_search_on_insert BEFORE INSERT ON products
  FOR EACH ROW EXECUTE FUNCTION products_search();

-- Only updates that set the text (or search itself) fire it: stock, rating and soft-delete updates skip it, as
-- they skipped the generated column.
CREATE TRIGGER products_search_on_update BEFORE UPDATE OF name, description, search ON products
  FOR EACH ROW EXECUTE FUNCTION products_search();
