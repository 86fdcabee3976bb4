-- Catalog: every sort keeps a per-category index, so a category_id filter over a subtree reads each category
-- of the subtree from the cursor on (see docs/db_optimization.md, "Catalog query shapes").
CREATE INDEX products_category_name_idx ON products (category_id, name, id) WHERE deleted_at IS NULL;
CREATE INDEX products_category_rating_idx ON products (category_id, rating_avg, id) WHERE deleted_at IS NULL;
-- Deleting a category asks whether any product, deleted ones included, still points at it (and the foreign
-- key's RESTRICT check asks the same): without this index both would read the whole table.
CREATE INDEX products_category_id_idx ON products (category_id);
-- A wishlist's items, newest first, in keyset pages.
CREATE INDEX wishlist_items_wishlist_id_idx ON wishlist_items (wishlist_id, id);
