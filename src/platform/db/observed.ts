import type { Database, Queryable, Session, Transaction } from './database.js';

export type PoolName = 'primary' | 'reader';

/** Told about every statement a Database sends: which pool, how long it took, whether it failed. */
export type QueryObserver = (pool: PoolName, seconds: number, failed: boolean) => void;

/**
 * The same Database with every statement timed for the observer (metrics). The engines stay untouched; the
 * cost is two clock reads and one call per statement. Statements inside transactions and locked sessions
 * count as `primary`; `reader` counts the replica-tolerant handle (the primary itself when no replica is set).
 */
export function observeDatabase(db: Database, observer: QueryObserver): Database {
  const timed = <T>(pool: PoolName, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    return run().then(
      (result) => {
        observer(pool, (performance.now() - started) / 1000, false);
        return result;
      },
      (error: unknown) => {
        observer(pool, (performance.now() - started) / 1000, true);
        throw error;
      },
    );
  };
  const wrap = (target: Queryable, pool: PoolName): Queryable => ({
    query: (sql, params) => timed(pool, () => target.query(sql, params)),
  });
  const wrapSession = (session: Session): Session => ({
    ...wrap(session, 'primary'),
    exec: (sql) => timed('primary', () => session.exec(sql)),
  });
  const wrapTransaction = (tx: Transaction): Transaction => ({
    ...wrap(tx, 'primary'),
    queryAndCommit: (sql, params) => timed('primary', () => tx.queryAndCommit(sql, params)),
    defer: (sql, params, check) => {
      // Timed until its round trip returns. Its failure is the transaction's (thrown by the statement it went
      // with), so the timed copy must not be an unhandled rejection either.
      const timedResult = timed('primary', () => tx.defer(sql, params, check));
      timedResult.catch(() => {});
      return timedResult;
    },
  });
  const observe = (target: Database, background: () => Database): Database => {
    const primary = wrap(target, 'primary');
    return {
      engine: target.engine,
      get stats() {
        return target.stats;
      },
      reader: wrap(target.reader, 'reader'),
      query: primary.query,
      transaction: (fn) => target.transaction((tx) => fn(wrapTransaction(tx))),
      exec: (sql) => timed('primary', () => target.exec(sql)),
      withLock: (lockId, fn) => target.withLock(lockId, (session) => fn(wrapSession(session))),
      listen: (channel, onNotify) => target.listen(channel, onNotify),
      fenceWrite: (userId) => target.fenceWrite(userId),
      replicas: () => target.replicas(),
      poolUse: target.poolUse?.bind(target),
      close: () => target.close(),
      get background() {
        return background();
      },
    };
  };
  const observed: Database = observe(db, () => jobs);
  const jobs: Database = db.background === db ? observed : observe(db.background, () => jobs);
  return observed;
}
