import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/platform/db/index.js';
import { type AuthUser, createAccessTokens } from '../../src/platform/http/auth.js';
import type { HttpServer } from '../../src/platform/http/server.js';
import { scratchDir } from './scratch.js';

export interface TestApp {
  app: HttpServer;
  dataDir: string;
  /** The secret this app signs access tokens with (tests forge expired or tampered tokens from it). */
  jwtSecret: string;
  /** An access token for a user, signed with this app's secret. */
  tokenFor(user: AuthUser): string;
  close(): Promise<void>;
}

/** The real app, as `serve` builds it, on a test database; env adds configuration (REDIS_URL, ...). */
export interface TestAppOptions {
  env?: Record<string, string>;
  logger?: Logger;
  /** Extra routes for a test, registered before the app is ready. */
  extend?: (app: HttpServer) => void;
}

export async function buildTestApp(db: Database, options: TestAppOptions = {}): Promise<TestApp> {
  const env = options.env ?? {};
  const dataDir = scratchDir('test');
  // A Redis key prefix of its own, so test runs sharing one Redis never see each other's counters.
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    REDIS_KEY_PREFIX: `test-${randomBytes(6).toString('hex')}:`,
    ...env,
  });
  const jwtSecret = randomBytes(32).toString('hex');
  const app = await buildApp({ config, db, logger: options.logger ?? pino({ level: 'silent' }), jwtSecret });
  options.extend?.(app);
  await app.ready();
  const tokens = createAccessTokens(jwtSecret);
  return { app, dataDir, jwtSecret, tokenFor: (user) => tokens.sign(user), close: () => app.close() };
}
