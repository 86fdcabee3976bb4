import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Config, loadConfig } from '../config.js';
import { type Database, migrate, openDatabase } from '../platform/db/index.js';
import { createLogger } from '../platform/observability/logger.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  /** True when this start created the embedded database: the demo catalog is loaded once, then. */
  freshEmbedded: boolean;
}

/** Loads the configuration, opens the database and applies pending migrations: the start of every command. */
export async function openRuntime(options: { poolSize?: number } = {}): Promise<Runtime> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const freshEmbedded =
    config.databaseUrl === null && !existsSync(path.join(config.dataDir, 'pg', 'PG_VERSION'));
  const db = await openDatabase(config, options.poolSize);
  try {
    const ran = await migrate(db);
    if (ran.length > 0) logger.info({ migrations: ran }, 'applied migrations');
  } catch (error) {
    await db.close();
    throw error;
  }
  return { config, logger, db, freshEmbedded };
}
