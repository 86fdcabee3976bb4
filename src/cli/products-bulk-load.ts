import type { Queryable } from '../platform/db/index.js';

/**
 * Runs a bulk load of products with their secondary indexes, foreign keys and search trigger set aside, then
 * puts them back: building an index once over a million rows is several times faster than maintaining it row by
 * row, one validating join is cheaper than a million foreign-key checks, and the load brings each row's
 * `search` already computed (in parallel, while the rows were validated), equal to what the trigger would give.
 *
 * Run it inside a transaction, and only then: a failure rolls back the drops with everything else, so there is
 * no moment, not even after a crash, when another session sees products without an index, a constraint or the
 * trigger. Until the transaction ends, readers and writers of products wait for it.
 */
export async function loadProductsInBulk<T>(
  db: Queryable,
  load: () => Promise<T>,
  phase: (name: 'foreign keys' | 'indexes') => void,
): Promise<T> {
  const { rows: indexes } = await db.query<{ name: string; definition: string }>(
    `SELECT quote_ident(indexname) AS name, indexdef AS definition FROM pg_indexes
     WHERE tablename = 'products' AND schemaname = current_schema() AND indexname <> 'products_pkey'`,
  );
  const { rows: foreignKeys } = await db.query<{ name: string; definition: string }>(
    `SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE conrelid = 'products'::regclass AND contype = 'f'`,
  );
  for (const key of foreignKeys) await db.query(`ALTER TABLE products DROP CONSTRAINT ${key.name}`);
  for (const index of indexes) await db.query(`DROP INDEX ${index.name}`);
  // The trigger of migrations/061_products_search_trigger.sql, which would compute search again.
  await db.query('ALTER TABLE products DISABLE TRIGGER products_search_on_insert');
  const result = await load();
  await db.query('ALTER TABLE products ENABLE TRIGGER products_search_on_insert');
  phase('foreign keys');
  for (const key of foreignKeys) {
    await db.query(`ALTER TABLE products ADD CONSTRAINT ${key.name} ${key.definition}`);
  }
  phase('indexes');
  for (const index of indexes) await db.query(index.definition);
  return result;
}
