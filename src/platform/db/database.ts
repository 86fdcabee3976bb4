/**
 * The one database interface the rest of Bazaar sees. Two engines stand behind it, PGlite (embedded) and
 * PostgreSQL (scaled), speaking the same SQL; only this folder knows which one is running.
 */

export type Row = Record<string, unknown>;

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** The handle a transaction's work gets. */
export interface Transaction extends Queryable {
  /**
   * Runs the transaction's last statement and commits with it: on PostgreSQL the statement and COMMIT travel in
   * one round trip (BEGIN likewise goes with the first statement; see postgres.ts). Nothing may be sent on the
   * transaction after it, and the work should return right after it: once it went through, the work is
   * committed, even if fn throws afterwards (on both engines). When the statement fails, nothing is committed
   * and its error is thrown; if fn catches it and returns, the transaction throws all the same (on PostgreSQL
   * rolledBack()), as it does for any failed statement whose error fn caught.
   */
  queryAndCommit<R = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /**
   * Sends a statement whose result the work does not need before its next statement: on PostgreSQL it travels
   * with that next one (tx.query or tx.queryAndCommit) in the same round trip, or alone if the work sends none
   * by the end of the event loop's turn; PGlite runs it in order. The promise settles when it has run. When it
   * fails, or `check` throws on its result, the transaction fails: the statement it travelled with (or would
   * have) rejects with that error, and nothing after it is sent or committed. A statement with a check never
   * travels with COMMIT (it goes in a round trip before it). Deferred statements still unsent when the work
   * returns go with its COMMIT. Refused (thrown at once, not a rejected promise) after queryAndCommit or a failure.
   */
  defer<R = Row>(
    sql: string,
    params?: readonly unknown[],
    check?: (result: QueryResult<R>) => void,
  ): Promise<QueryResult<R>>;
}

/**
 * What the PostgreSQL adapter throws when the work caught a failed statement's error and returned: COMMIT found
 * the transaction aborted (or, for a failed last statement, Bazaar rolled it back). Nothing was committed.
 * PGlite throws its own error then.
 */
export function rolledBack(): Error {
  return Object.assign(new Error('The transaction was rolled back: one of its statements failed'), {
    code: '25P02', // in_failed_sql_transaction: an SQL outcome, so the connection is kept
  });
}

/** What either engine throws for a statement sent on a transaction after its queryAndCommit. */
export function afterLastStatement(): Error {
  return new Error('The transaction already sent its last statement');
}

export interface Session extends Queryable {
  exec(sql: string): Promise<void>;
}

export type Engine = 'pglite' | 'postgres';

/** One read replica as the router last saw it (see replicas.ts). */
export interface ReplicaState {
  name: string;
  reachable: boolean;
  lagMs: number | null;
  usable: boolean;
}

export interface PoolUse {
  pool: string;
  busy: number;
  idle: number;
  /** Callers waiting for a connection: above zero, the pool is the bottleneck. */
  waiting: number;
  max: number;
}

export interface Database extends Queryable {
  readonly engine: Engine;
  /**
   * Reads that tolerate replication lag (the catalog): a usable replica, or the primary when none is. Inside a
   * request, a user who just wrote reads only from a replica that has replayed that write (read-context.ts).
   */
  readonly reader: Queryable;
  /**
   * Records that userId just wrote, so their next reads see it on any instance. Called by a platform hook after
   * each write request; does nothing without replicas.
   */
  fenceWrite(userId: number): Promise<void>;
  /** The read replicas and their health (empty without replicas). */
  replicas(): ReplicaState[];
  /**
   * Runs fn in one transaction; commits when it resolves, rolls back when it throws (unless the statement given
   * to tx.queryAndCommit already went through: then it committed). Inside fn, use only tx:
   * on PGlite the database is one connection, so a query on the outer handle would wait for the transaction.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs fn on one session while holding a session-level advisory lock, so processes do the work one at a
   * time. The session may run scripts and its own BEGIN/COMMIT.
   */
  withLock<T>(lockId: number, fn: (session: Session) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * The same database for background work (the job runner, the outbox relay, job handlers and periodic
   * tasks): on PostgreSQL its statements and transactions take connections from a small pool of their own
   * (`bazaar-jobs`), so jobs and requests never queue in one line. Requests and jobs sharing one pool did:
   * under a load that kept it busy, a job's statements each waited behind a hundred requests' and payments
   * were captured minutes late; with its own connections the runner keeps pace whatever the request load. On
   * PGlite (one connection) it is the database itself.
   */
  readonly background: Database;
  /** Connection-pool use, read by /metrics at scrape time; absent on PGlite (one connection, no pool). */
  readonly poolUse?: () => PoolUse[];
  /** How many statements this handle sent: tests use it to prove that a page's query count is fixed. */
  readonly stats: { queries: number; replicaReads: number };
  close(): Promise<void>;
}

/** PostgreSQL error codes that Bazaar maps to answers rather than to 500s. */
export const PgErrorCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function pgConstraint(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'constraint' in error) {
    const constraint = (error as { constraint: unknown }).constraint;
    return typeof constraint === 'string' ? constraint : undefined;
  }
  return undefined;
}

/**
 * The database could not be reached or dropped the connection (down, restarting, failing over, pool exhausted):
 * the request may succeed later, so it is answered 503 rather than 500, and a replica read is retried on the
 * primary.
 */
export function isConnectionError(error: unknown): boolean {
  const code = pgErrorCode(error);
  // Class 08 connection exceptions; 57P01-57P03 admin shutdown, crash shutdown, cannot connect now.
  if (code !== undefined && (/^08/.test(code) || /^57P0[123]$/.test(code))) return true;
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code);
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(
    message,
  );
}
