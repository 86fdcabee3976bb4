-- One random name per database, made when the database is created: every Bazaar process on this database
-- prefixes its Redis cache keys with it, so two databases sharing one Redis (two shops, parallel test runs)
-- never read each other's entries.
CREATE TABLE cache_namespace (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  namespace text NOT NULL
);
INSERT INTO cache_namespace (namespace) VALUES (replace(gen_random_uuid()::text, '-', ''));
