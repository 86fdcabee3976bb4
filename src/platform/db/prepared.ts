/**
 * Statements worth preparing: the fixed, hot ones (checkout, cart, jobs), whose plans do not depend on their
 * parameters. `prepared(sql)` returns the text unchanged and remembers it; the PostgreSQL adapter then sends it
 * as a named statement, parsed and planned once per connection instead of once per call (half the server's
 * work for a primary-key lookup). Dynamic statements (catalog lists, whose best plan depends on the filter's
 * values) are never registered and stay unnamed. Nor are statements with optional filters (`$1 IS NULL OR
 * ...`): a cached generic plan cannot know which filter is off, and may walk a whole index for a selective
 * one; prepared() refuses them.
 *
 * Named statements live in a server session, which a transaction-pooling PgBouncer older than 1.21 does not
 * keep: DATABASE_PREPARED_STATEMENTS=false turns them off (see deploy/pgbouncer/pgbouncer.ini).
 */
const names = new Map<string, string>();

const OPTIONAL_FILTER = /\$\d+(::\w+)?\s+IS\s+NULL\s+OR/i;

export function prepared(sql: string): string {
  if (!names.has(sql)) {
    if (OPTIONAL_FILTER.test(sql)) {
      throw new Error(`A statement with optional filters must not be prepared: ${sql.slice(0, 80)}`);
    }
    names.set(sql, `bazaar_${names.size + 1}`);
  }
  return sql;
}

/** The statement's name when it was registered with prepared(). */
export function preparedName(sql: string): string | undefined {
  return names.get(sql);
}
