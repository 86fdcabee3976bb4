import path from 'node:path';
import type { Config } from '../../config.js';
import type { Database } from './database.js';
import { redisFences } from './fences.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export type {
  Database,
  PoolUse,
  Queryable,
  QueryResult,
  ReplicaState,
  Row,
  Session,
  Transaction,
} from './database.js';
export { isConnectionError, PgErrorCode, pgConstraint, pgErrorCode } from './database.js';
export { migrate } from './migrator.js';
export { observeDatabase, type PoolName, type QueryObserver } from './observed.js';
export { prepared } from './prepared.js';
export { readContext } from './read-context.js';

/**
 * PostgreSQL when DATABASE_URL is set, reading from DATABASE_REPLICA_URLS while they are healthy (users' write
 * fences shared through REDIS_URL); otherwise PGlite in DATA_DIR/pg.
 */
export function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> &
    Partial<
      Pick<
        Config,
        | 'databaseReplicaUrls'
        | 'databaseReplicaMaxLagMs'
        | 'databasePoolSize'
        | 'databasePreparedStatements'
        | 'redisUrl'
      >
    >,
  poolSize?: number,
): Promise<Database> {
  if (config.databaseUrl !== null) {
    const replicaUrls = config.databaseReplicaUrls ?? [];
    return openPostgres({
      url: config.databaseUrl,
      poolSize: poolSize ?? config.databasePoolSize,
      replicaUrls,
      replicaMaxLagMs: config.databaseReplicaMaxLagMs,
      preparedStatements: config.databasePreparedStatements,
      fences: replicaUrls.length > 0 && config.redisUrl ? redisFences(config.redisUrl) : undefined,
    });
  }
  return openPglite(path.join(config.dataDir, 'pg'));
}
