import pg from 'pg';
import {
  afterLastStatement,
  type Database,
  type Queryable,
  type QueryResult,
  rolledBack,
  type Session,
  type Transaction,
} from './database.js';
import { type FenceStore, signedInReadPrimary } from './fences.js';
import { type Lsn, parseLsn } from './lsn.js';
import { executeText } from './piggyback.js';
import { mayInline, preparedName } from './prepared.js';
import { readContext } from './read-context.js';
import { createReplicaSet, type ReplicaSet } from './replicas.js';

// int8 (counts, bigint ids) as numbers, like PGlite: every bigint Bazaar stores fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresOptions {
  url: string;
  /** Connections per pool; the default suits one API process on a few cores. */
  poolSize?: number;
  applicationName?: string;
  /** Read replicas of url (streaming standbys); reader sends reads there while they are healthy. */
  replicaUrls?: string[];
  /** Where users' write fences are shared between instances (Redis); see fences.ts. */
  fences?: FenceStore;
  /** A replica staler than this is skipped (default 5 s). */
  replicaMaxLagMs?: number;
  /** How often replicas are checked (default 500 ms). */
  replicaCheckMs?: number;
  /** Send the statements registered with prepared() as named statements (default true); see prepared.ts. */
  preparedStatements?: boolean;
  /** Connections of the pool behind `background` (the job runner's); opened only when used. Default 8. */
  backgroundPoolSize?: number;
}

interface Statement {
  sql: string;
  params?: readonly unknown[] | undefined;
}

/** A statement given to Transaction.defer, waiting to travel with the transaction's next one. */
interface Deferred extends Statement {
  check: ((result: QueryResult<unknown>) => void) | undefined;
  resolve: (result: QueryResult<unknown>) => void;
  reject: (error: unknown) => void;
}

function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}`;
}

function createPool(url: string, options: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 15_000,
    idle_in_transaction_session_timeout: 30_000,
    application_name: options.applicationName ?? 'bazaar',
  });
  // An idle client losing its server (restart, failover) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

/**
 * Names this database for the fences: WAL positions compare only within one cluster, and one Redis may serve
 * several deployments (or test databases), so a fence is kept under the cluster's system identifier and the
 * database name. Where pg_control_system() is not granted, the primary's host, port and database stand in.
 */
async function databaseIdentity(primary: pg.Pool, url: string): Promise<string> {
  try {
    const { rows } = await primary.query<{ id: string }>(
      "SELECT system_identifier::text || ':' || current_database() AS id FROM pg_control_system()",
    );
    if (rows[0]) return rows[0].id;
  } catch {
    // not granted to this role: fall through
  }
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const primary = createPool(options.url, options);
  // Connections are opened on first use: a process that runs no job never opens one.
  const backgroundPool = createPool(options.url, {
    ...options,
    poolSize: options.backgroundPoolSize ?? 8,
    applicationName: 'bazaar-jobs',
  });
  const stats = { queries: 0, replicaReads: 0 };

  const prepare = options.preparedStatements ?? true;
  const run = async <R>(target: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    stats.queries += 1;
    const name = prepare ? preparedName(sql) : undefined;
    const result = await target.query(
      name === undefined
        ? { text: sql, values: params as unknown[] | undefined }
        : { name, text: sql, values: params as unknown[] | undefined },
    );
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 } satisfies QueryResult<R>;
  };

  /** The names prepared on each connection, as far as transactions saw them: those may go by EXECUTE. */
  const preparedOn = new WeakMap<pg.PoolClient, Set<string>>();

  /** Several statements in one simple-protocol message; the result of each, in order, with its command tag. */
  const runScript = async (client: pg.PoolClient, text: string, statements: number) => {
    stats.queries += statements;
    const results = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
    return (Array.isArray(results) ? results : [results]).map((result) => ({
      rows: result.rows,
      rowCount: result.rowCount ?? 0,
      command: result.command,
    }));
  };

  /**
   * Whether a statement the protocol prepared on a connection can be run there by SQL's EXECUTE (piggyback.ts):
   * yes on PostgreSQL itself; no through a pooler that renames prepared statements (PgBouncer 1.21+ with
   * max_prepared_statements), where BEGIN and COMMIT then go on their own. Asked once per pool.
   */
  async function executeSeesPrepared(client: pg.PoolClient): Promise<boolean> {
    if (!prepare) return false;
    await client.query({ name: 'bazaar_execute_probe', text: 'SELECT 1' });
    const { rows } = await client.query<{ seen: boolean }>(
      "SELECT EXISTS (SELECT FROM pg_prepared_statements WHERE name = 'bazaar_execute_probe') AS seen",
    );
    return rows[0]?.seen === true;
  }

  /**
   * A transaction on client whose BEGIN goes with its first statement, whose deferred statements go with the
   * statement after them, and whose COMMIT goes with the statement given to queryAndCommit: all in one message
   * when each of those statements is prepared on the connection and `executes` (piggyback.ts). A secret
   * statement (prepared.ts), or one not prepared on the connection yet, goes bound after a message of BEGIN and
   * the deferred statements before it; otherwise each goes in a round trip of its own. A transaction that sends
   * nothing sends no BEGIN. Sends go strictly one after another, in the order the work made them, and none goes
   * once a deferred statement (or its check) failed.
   */
  async function inTransaction<T>(
    client: pg.PoolClient,
    executes: boolean,
    fn: (tx: Transaction) => Promise<T>,
  ): Promise<T> {
    let known = preparedOn.get(client);
    if (known === undefined) {
      known = new Set();
      preparedOn.set(client, known);
    }
    const names = known;
    const asExecute = (statement: Statement) => {
      const name = executes ? preparedName(statement.sql) : undefined;
      return name !== undefined && names.has(name) && mayInline(statement.sql)
        ? executeText(name, statement.params)
        : undefined;
    };
    const send = async <R>(statement: Statement) => {
      const result = await run<R>(client, statement.sql, statement.params);
      const name = prepare ? preparedName(statement.sql) : undefined;
      if (name !== undefined) names.add(name);
      return result;
    };
    /** COMMIT on its own. PostgreSQL answers it with ROLLBACK when a statement failed and the work caught that. */
    const commitAlone = async () => {
      stats.queries += 1;
      const { command } = await client.query('COMMIT');
      if (command === 'ROLLBACK') throw rolledBack();
    };
    // Changed by tx's methods while fn runs (an assertion, so the checks after fn are not narrowed away).
    let state = 'new' as 'new' | 'open' | 'over';
    // Whether the transaction is over on the server: committed, or never begun (a lone last statement).
    let ended = false;
    // queryAndCommit was called, or the work returned: nothing more may be added.
    let closing = false;
    // Deferred statements not taken by a send yet, in order.
    let waiting: Deferred[] = [];
    // The last send: each waits for the one before it.
    let tail: Promise<unknown> = Promise.resolve();
    // What failed a deferred statement (or its check, or a message that carried one): the transaction refuses
    // every statement after it, and rolls back.
    let failure: { error: unknown } | undefined;

    /** Records the transaction's failure and rejects the deferred statements given; the failure's error. */
    const fail = (batch: readonly Deferred[], error: unknown): unknown => {
      failure ??= { error };
      for (const statement of batch) statement.reject(failure.error);
      return failure.error;
    };
    /** Refuses the rest of a send once the transaction failed (the work threw meanwhile, say). */
    const stillGood = () => {
      if (failure) throw failure.error;
    };
    /** Runs a deferred statement's check and resolves it; the check's error, when it refused the result. */
    const settle = (deferred: Deferred, result: QueryResult<unknown>): { error: unknown } | undefined => {
      try {
        deferred.check?.(result);
      } catch (error) {
        return { error };
      }
      deferred.resolve(result);
      return undefined;
    };

    /**
     * One message: BEGIN first when begin, the texts of batch (deferred statements) and of main, COMMIT last when
     * commit; settles batch and returns main's result. When a deferred statement's check refuses its result, it
     * and those after it reject with that error, and so does main.
     */
    const message = async (
      begin: boolean,
      batch: Deferred[],
      texts: string[],
      main: Statement | undefined,
      commit: boolean,
    ) => {
      const script = [...(begin ? ['BEGIN'] : []), ...texts, ...(commit ? ['COMMIT'] : [])];
      let results: (QueryResult<unknown> & { command: string })[];
      try {
        results = await runScript(client, script.join('; '), script.length);
      } catch (error) {
        // Which statement of the message failed is not known: with deferred ones in it, all of them reject and
        // the transaction fails; the work gets the message's error as main's (it may map it: a key taken, say).
        if (batch.length > 0) fail(batch, error);
        throw error;
      }
      // A COMMIT alone in its message finds the transaction aborted when the work caught a failed statement.
      if (commit && results.at(-1)?.command === 'ROLLBACK') throw fail(batch, rolledBack());
      if (commit) ended = true;
      const first = begin ? 1 : 0;
      for (const [index, deferred] of batch.entries()) {
        const refused = settle(deferred, results[first + index] as QueryResult<unknown>);
        if (refused) throw fail(batch.slice(index), refused.error);
      }
      return main === undefined ? undefined : results[first + batch.length];
    };

    /**
     * Sends batch (deferred statements), then main (if any): BEGIN first when begin, COMMIT last when commit. One
     * message when every statement can go by EXECUTE. When main cannot (a secret statement, or one not prepared
     * on this connection yet), BEGIN and batch go in one message and main after it, bound; otherwise one round
     * trip each. A deferred statement that fails, or its check, fails the transaction (see message).
     */
    const sendNow = async (
      batch: Deferred[],
      main: Statement | undefined,
      begin: boolean,
      commit: boolean,
    ) => {
      if (failure) throw fail(batch, failure.error);
      // Nothing to send with it: the statement goes as prepared, without the simple protocol's EXECUTE.
      if (main !== undefined && batch.length === 0 && !begin && !commit) return send(main);
      const texts = batch.map(asExecute);
      const mainText = main === undefined ? undefined : asExecute(main);
      if (texts.every((text) => text !== undefined)) {
        if (main === undefined || mainText !== undefined) {
          return message(begin, batch, mainText === undefined ? texts : [...texts, mainText], main, commit);
        }
        if (begin || batch.length > 0) await message(begin, batch, texts, undefined, false);
      } else {
        let next = 0; // the first deferred statement of the batch not settled yet
        try {
          if (begin) await run(client, 'BEGIN');
          for (; next < batch.length; next += 1) {
            stillGood();
            const deferred = batch[next] as Deferred;
            const refused = settle(deferred, await send(deferred));
            if (refused) throw refused.error;
          }
        } catch (error) {
          throw fail(batch.slice(next), error);
        }
      }
      stillGood();
      const result = main === undefined ? undefined : await send(main);
      if (commit) {
        stillGood();
        await commitAlone();
        ended = true;
      }
      return result;
    };
    /**
     * Takes the waiting deferred statements and main at once, so the message holds what the work sent until now,
     * and sends them once the sends before have come back.
     */
    const enqueue = (
      main: Statement | undefined,
      commit: boolean,
    ): Promise<QueryResult<unknown> | undefined> => {
      const batch = waiting;
      waiting = [];
      const begin = state === 'new';
      state = commit ? 'over' : 'open';
      const sent = tail.then(() => sendNow(batch, main, begin, commit));
      tail = sent.catch(() => {}); // a failure is the caller's, and recorded when it is the transaction's
      return sent;
    };
    /** main (if any) with COMMIT; a checked deferred statement goes in a send before it, never with COMMIT. */
    const enqueueCommit = (main: Statement | undefined) => {
      if (waiting.some((deferred) => deferred.check !== undefined))
        void enqueue(undefined, false).catch(() => {});
      return enqueue(main, true);
    };
    const refuseAfterEnd = () => {
      if (state === 'over' || closing) throw afterLastStatement();
      if (failure) throw failure.error;
    };

    const tx: Transaction = {
      query: async <R>(sql: string, params?: readonly unknown[]) => {
        refuseAfterEnd();
        return (await enqueue({ sql, params }, false)) as QueryResult<R>;
      },
      queryAndCommit: async <R>(sql: string, params?: readonly unknown[]) => {
        refuseAfterEnd();
        closing = true;
        if (state === 'new' && waiting.length === 0) {
          // A transaction of one statement needs no BEGIN: the statement is atomic on its own.
          state = 'over';
          ended = true;
          const sent = send<R>({ sql, params });
          // Failed, nothing was done: the work's end throws if it caught that and returned, as for a transaction.
          tail = sent.then(
            () => {},
            () => {
              ended = false;
            },
          );
          return sent;
        }
        return (await enqueueCommit({ sql, params })) as QueryResult<R>;
      },
      defer: <R>(sql: string, params?: readonly unknown[], check?: (result: QueryResult<R>) => void) => {
        refuseAfterEnd();
        const promise = new Promise<QueryResult<R>>((resolve, reject) => {
          waiting.push({
            sql,
            params,
            check: check as Deferred['check'],
            resolve: resolve as Deferred['resolve'],
            reject,
          });
        });
        // Its failure is the transaction's, thrown by the statement it travels with; awaiting it is optional.
        promise.catch(() => {});
        // The work's next statement normally takes it along within this turn of the event loop. If none comes
        // by the end of it (the work awaits this result first, or something else), it goes alone rather than
        // keep its promise, and the connection, waiting.
        if (waiting.length === 1) {
          setImmediate(() => {
            if (waiting.length > 0 && !closing) void enqueue(undefined, false).catch(() => {});
          });
        }
        return promise;
      },
    };
    try {
      const result = await fn(tx);
      closing = true;
      if (waiting.length > 0 || state === 'open') await enqueueCommit(undefined);
      else {
        await tail;
        if (failure) throw failure.error;
        // A last statement that failed, its error caught by fn: the transaction is aborted, and rolled back.
        if (state === 'over' && !ended) throw rolledBack();
      }
      return result;
    } catch (error) {
      // The work's error is thrown as it is (it may have mapped a statement's); a deferred statement's failure
      // reached the work as its next statement's error.
      closing = true;
      fail(waiting.splice(0), error);
      await tail; // sends already on their way come back first; those not yet sent are refused
      // A failed statement leaves the transaction aborted; after a COMMIT that went through this does nothing.
      if (state !== 'new') await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken = false;
    // The pool watches only its idle clients: a checked-out one whose server goes away between two
    // statements (a restart, pg_terminate_backend) emits 'error', which would crash the process unheard.
    // The next statement on it fails anyway, and the client is then destroyed below.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (error) {
      broken ||= (error as { code?: string }).code === undefined;
      throw error;
    } finally {
      client.off('error', onError);
      // A client that failed outside SQL (connection lost) is destroyed rather than handed out again.
      client.release(broken);
    }
  }

  const replicaUrls = options.replicaUrls ?? [];
  const maxLagMs = options.replicaMaxLagMs ?? 5_000;
  const checkMs = options.replicaCheckMs ?? 500;
  const fences = options.fences ?? signedInReadPrimary();
  let replicaSet: ReplicaSet | null = null;
  let fenceScope = '';
  if (replicaUrls.length > 0) {
    replicaSet = createReplicaSet({
      primary,
      replicas: replicaUrls.map((url) => ({
        name: replicaName(url),
        pool: createPool(url, { ...options, applicationName: 'bazaar-reader' }),
      })),
      maxLagMs,
      checkIntervalMs: checkMs,
    });
    await replicaSet.start();
    fenceScope = await databaseIdentity(primary, options.url);
  }

  /** What this read must see: nothing (anonymous), the user's last write, or everything (the primary). */
  async function readFence(): Promise<Lsn | 'primary' | null> {
    const context = readContext.getStore();
    if (context === undefined) return null;
    if (context.writing) return 'primary';
    const userId = context.userId();
    if (userId === null) return null;
    context.fence ??= fences.get(`${fenceScope}:${userId}`);
    return context.fence;
  }

  /** Statements, transactions, locked sessions and replica-tolerant reads whose primary connections come from pool. */
  function onPool(pool: pg.Pool) {
    let executes: Promise<boolean> | undefined;
    const probeExecute = (client: pg.PoolClient) => {
      executes ??= executeSeesPrepared(client).catch(() => {
        executes = undefined; // asked again by the next transaction
        return false;
      });
      return executes;
    };
    const reader: Queryable = {
      query: async <R>(sql: string, params?: readonly unknown[]) => {
        if (replicaSet === null) return run<R>(pool, sql, params);
        const fence = await readFence();
        const replica =
          fence === 'primary'
            ? null
            : fence === null
              ? replicaSet.pick(null)
              : await replicaSet.pickFresh(fence);
        if (replica === null) return run<R>(pool, sql, params);
        try {
          const result = await run<R>(replica.pool, sql, params);
          stats.replicaReads += 1;
          return result;
        } catch (error) {
          // Reads are safe to repeat: a replica that went away costs a retry on the primary, not an error.
          if (!replicaSet.reportFailure(replica, error)) throw error;
          return run<R>(pool, sql, params);
        }
      },
    };
    return {
      reader,
      query: <R>(sql: string, params?: readonly unknown[]) => run<R>(pool, sql, params),
      transaction: <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> =>
        withClient(pool, async (client) => inTransaction(client, await probeExecute(client), fn)),
      withLock: <T>(lockId: number, fn: (session: Session) => Promise<T>): Promise<T> =>
        withClient(pool, async (client) => {
          await client.query('SELECT pg_advisory_lock($1)', [lockId]);
          try {
            return await fn({
              query: (sql, params) => run(client, sql, params),
              exec: async (sql) => {
                stats.queries += 1;
                await client.query(sql);
              },
            });
          } finally {
            await client.query('SELECT pg_advisory_unlock($1)', [lockId]);
          }
        }),
    };
  }

  // A replica trusted for reads is at most maxLagMs stale as of a check at most checkMs old, so after this
  // long every replica in use has replayed the write and the fence may go.
  const fenceTtlMs = 2 * (maxLagMs + checkMs);

  const listeners: pg.Client[] = [];

  const shared = {
    engine: 'postgres' as const,
    stats,
    fenceWrite: async (userId: number) => {
      if (replicaSet === null) return;
      // The insert position is at or past the end of every commit this user's request made.
      const { rows } = await primary.query<{ lsn: string }>(
        'SELECT pg_current_wal_insert_lsn()::text AS lsn',
      );
      await fences.record(`${fenceScope}:${userId}`, parseLsn(rows[0]?.lsn ?? ''), fenceTtlMs);
    },
    replicas: () => replicaSet?.statuses() ?? [],
    exec: async (sql: string) => {
      stats.queries += 1;
      await primary.query(sql);
    },
    poolUse: () =>
      (
        [
          ['primary', primary],
          ['jobs', backgroundPool],
        ] as const
      ).map(([name, pool]) => ({
        pool: name,
        busy: pool.totalCount - pool.idleCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
        max: pool.options.max,
      })),
    listen: async (channel: string, onNotify: (payload: string) => void) => {
      const client = new pg.Client({ connectionString: options.url, application_name: 'bazaar-listen' });
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload ?? '');
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      listeners.push(client);
      return async () => {
        listeners.splice(listeners.indexOf(client), 1);
        await client.end().catch(() => {});
      };
    },
    close: async () => {
      await Promise.all(listeners.splice(0).map((client) => client.end().catch(() => {})));
      await replicaSet?.stop();
      await Promise.all(replicaSet?.pools().map((pool) => pool.end()) ?? []);
      await fences.close();
      await Promise.all([primary.end(), backgroundPool.end()]);
    },
  };
  const jobs: Database = {
    ...shared,
    ...onPool(backgroundPool),
    get background() {
      return jobs;
    },
  };
  const database: Database = { ...shared, ...onPool(primary), background: jobs };
  return database;
}
