import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { afterLastStatement, type Database, type Queryable, type QueryResult } from './database.js';

/** The embedded engine: PostgreSQL compiled to WASM, one connection, data in dataDir (or memory when null). */
export async function openPglite(dataDir: string | null): Promise<Database> {
  if (dataDir !== null) mkdirSync(dataDir, { recursive: true });
  const pg = dataDir === null ? new PGlite() : new PGlite(dataDir);
  await pg.waitReady;
  const stats = { queries: 0, replicaReads: 0 };

  const run = async <R>(target: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) => {
    stats.queries += 1;
    const result = await target.query<R>(sql, params as unknown[] | undefined);
    return {
      rows: result.rows,
      rowCount: result.affectedRows ?? result.rows.length,
    } satisfies QueryResult<R>;
  };
  const handle: Queryable = { query: (sql, params) => run(pg, sql, params) };

  const database: Database = {
    engine: 'pglite',
    stats,
    reader: handle,
    // One embedded database and no replicas: every read already sees every write.
    fenceWrite: async () => {},
    replicas: () => [],
    query: handle.query,
    // PGlite commits when fn resolves; queryAndCommit only marks the statement as the last one. As on
    // PostgreSQL, work whose last statement went through is committed even if fn throws afterwards.
    transaction: async (fn) => {
      let thrownAfterLast: { error: unknown } | undefined;
      const result = await pg.transaction(async (tx) => {
        let last = false;
        let lastDone = false;
        // The work returned: nothing more may be added.
        let closing = false;
        // Statements run one after another, in the order the work sent them (deferred ones at once, with no
        // round trip to save); a deferred one that fails, or whose check does, fails the transaction, and nothing
        // after it runs.
        let tail: Promise<unknown> = Promise.resolve();
        let failure: { error: unknown } | undefined;
        const refuseAfterEnd = () => {
          if (last || closing) throw afterLastStatement();
          if (failure) throw failure.error;
        };
        const enqueue = <R>(
          sql: string,
          params: readonly unknown[] | undefined,
          deferred?: { check?: ((result: QueryResult<R>) => void) | undefined },
        ): Promise<QueryResult<R>> => {
          const result = tail.then(async () => {
            if (failure) throw failure.error;
            try {
              const answer = await run<R>(tx, sql, params);
              deferred?.check?.(answer);
              return answer;
            } catch (error) {
              if (deferred) failure ??= { error };
              throw error;
            }
          });
          tail = result.catch(() => {});
          return result;
        };
        const query = async <R>(sql: string, params?: readonly unknown[]) => {
          refuseAfterEnd();
          return enqueue<R>(sql, params);
        };
        try {
          const answer = await fn({
            query,
            queryAndCommit: async <R>(sql: string, params?: readonly unknown[]) => {
              const answer = query<R>(sql, params);
              last = true;
              const done = await answer;
              lastDone = true;
              return done;
            },
            defer: <R>(
              sql: string,
              params?: readonly unknown[],
              check?: (result: QueryResult<R>) => void,
            ) => {
              refuseAfterEnd();
              const promise = enqueue<R>(sql, params, { check });
              // Its failure is the transaction's; awaiting it is optional.
              promise.catch(() => {});
              return promise;
            },
          });
          closing = true;
          await tail;
          if (failure) throw failure.error;
          return answer;
        } catch (error) {
          closing = true;
          if (!lastDone) {
            // Statements still queued are refused, and the one running comes back, before PGlite rolls back. The
            // work's error is thrown as it is (it may have mapped a statement's), as on PostgreSQL.
            failure ??= { error };
            await tail;
            throw error;
          }
          thrownAfterLast = { error };
          return undefined;
        }
      });
      if (thrownAfterLast) throw thrownAfterLast.error;
      return result as Awaited<ReturnType<typeof fn>>;
    },
    exec: async (sql) => {
      stats.queries += 1;
      await pg.exec(sql);
    },
    // One process owns an embedded database (PGlite locks its directory), so there is nobody to exclude.
    withLock: (_lockId, fn) =>
      fn({
        query: handle.query,
        exec: async (sql) => {
          stats.queries += 1;
          await pg.exec(sql);
        },
      }),
    listen: async (channel, onNotify) => {
      const unsubscribe = await pg.listen(channel, onNotify);
      return async () => unsubscribe();
    },
    close: () => pg.close(),
    get background() {
      return database;
    },
  };
  return database;
}
