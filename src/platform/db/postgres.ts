import pg from 'pg';
import type { Database, Queryable, QueryResult } from './database.js';

// int8 (counts, bigint ids) as numbers, like PGlite: every bigint Bazaar stores fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresOptions {
  url: string;
  /** Connections per pool; the default suits one API process on a few cores. */
  poolSize?: number;
  applicationName?: string;
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

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const primary = createPool(options.url, options);
  const stats = { queries: 0 };

  const run = async <R>(target: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    stats.queries += 1;
    const result = await target.query(sql, params as unknown[] | undefined);
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 } satisfies QueryResult<R>;
  };
  const handle: Queryable = { query: (sql, params) => run(primary, sql, params) };

  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await primary.connect();
    let broken = false;
    try {
      return await fn(client);
    } catch (error) {
      broken = (error as { code?: string }).code === undefined;
      throw error;
    } finally {
      // A client that failed outside SQL (connection lost) is destroyed rather than handed out again.
      client.release(broken);
    }
  }

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return withClient(async (client) => {
      await run(client, 'BEGIN');
      try {
        const result = await fn({ query: (sql, params) => run(client, sql, params) });
        await run(client, 'COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  const listeners: pg.Client[] = [];

  const database: Database = {
    engine: 'postgres',
    stats,
    reader: handle,
    query: handle.query,
    transaction,
    exec: async (sql) => {
      stats.queries += 1;
      await primary.query(sql);
    },
    withLock: (lockId, fn) =>
      withClient(async (client) => {
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
    listen: async (channel, onNotify) => {
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
      await primary.end();
    },
  };
  return database;
}
