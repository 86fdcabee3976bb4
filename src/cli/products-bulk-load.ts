import type { Queryable } from '../platform/db/index.js';

/**
 * Runs a bulk load of products without their secondary indexes, then builds them again: building an index once
 * over a million rows is several times faster than maintaining it row by row. The indexes come back even when
 * the load fails. Inside a transaction, readers of products wait until it commits.
 */
export async function withoutProductIndexes<T>(db: Queryable, load: () => Promise<T>): Promise<T> {
  const { rows: indexes } = await db.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes
     WHERE tablename = 'products' AND schemaname = current_schema() AND indexname <> 'products_pkey'`,
  );
  for (const index of indexes) await db.query(`DROP INDEX IF EXISTS ${index.indexname}`);
  try {
    return await load();
  } finally {
    for (const index of indexes) await db.query(index.indexdef);
  }
}
