import path from 'node:path';
import type { Config } from '../../config.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export type { Database, Queryable, QueryResult, Row, Session } from './database.js';
export { PgErrorCode, pgConstraint, pgErrorCode } from './database.js';
export { migrate } from './migrator.js';

/** PostgreSQL when DATABASE_URL is set; otherwise PGlite in DATA_DIR/pg. */
export function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  poolSize?: number,
): Promise<Database> {
  if (config.databaseUrl !== null) return openPostgres({ url: config.databaseUrl, poolSize });
  return openPglite(path.join(config.dataDir, 'pg'));
}
