-- An order line keeps the product's name as bought, like its price: the receipt must not change when the
-- catalog does.
ALTER TABLE order_items ADD COLUMN product_name text NOT NULL DEFAULT '' CHECK (char_length(product_name) <= 200);
