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
const boundOnly = new Set<string>();

const OPTIONAL_FILTER = /\$\d+(::\w+)?\s+IS\s+NULL\s+OR/i;

/**
 * `secret`: the statement carries a secret among its parameters (a payment token): they always go bound, never
 * written into the text of a message as literals (db/piggyback.ts), where PostgreSQL's log on an error and
 * pg_stat_activity would show them. It then travels in a round trip of its own.
 */
export function prepared(sql: string, options: { secret?: boolean } = {}): string {
  if (!names.has(sql)) {
    if (OPTIONAL_FILTER.test(sql)) {
      throw new Error(`A statement with optional filters must not be prepared: ${sql.slice(0, 80)}`);
    }
    names.set(sql, `bazaar_${names.size + 1}`);
  }
  // Secret once declared so anywhere, whichever registration came first.
  if (options.secret) boundOnly.add(sql);
  return sql;
}

/** Whether the statement's parameters may be written into a message's text (not a `secret` one). */
export function mayInline(sql: string): boolean {
  return !boundOnly.has(sql);
}

/** The statement's name when it was registered with prepared(). */
export function preparedName(sql: string): string | undefined {
  return names.get(sql);
}
