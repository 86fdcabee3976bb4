import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { type Database, migrate } from '../../src/platform/db/index.js';
import { openPglite } from '../../src/platform/db/pglite.js';
import { openPostgres } from '../../src/platform/db/postgres.js';

/**
 * Every suite that touches the database runs on PGlite always, and on PostgreSQL when TEST_DATABASE_URL is
 * set; each run gets a database of its own, created here and dropped afterwards. With CI=true a missing
 * service fails the run instead of skipping it.
 */

export const ci = process.env.CI === 'true';

export function requireService(variable: string): string | undefined {
  const value = process.env[variable];
  if (!value && ci)
    throw new Error(`${variable} must be set when CI=true: the suites that need it cannot be skipped`);
  return value;
}

export interface TestDatabase {
  db: Database;
  /** A connection URL for this database (PostgreSQL only), for child processes. */
  url: string | null;
  drop(): Promise<void>;
}

export type EngineName = 'pglite' | 'postgres';

/** A new, empty PostgreSQL database on the server of TEST_DATABASE_URL; returns its URL. */
export async function createPostgresDatabase(
  adminUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bazaar_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function openTestDatabase(
  engine: EngineName,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  let handle: TestDatabase;
  if (engine === 'pglite') {
    const db = await openPglite(null);
    handle = { db, url: null, drop: () => db.close() };
  } else {
    const adminUrl = requireService('TEST_DATABASE_URL');
    if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
    const created = await createPostgresDatabase(adminUrl);
    const db = await openPostgres({ url: created.url, poolSize: 20 });
    handle = {
      db,
      url: created.url,
      drop: async () => {
        // A test may have closed the database itself (the /readyz test does): the pool then refuses a second
        // end(), and the database must be dropped all the same, or it stays on the server.
        await db.close().catch(() => {});
        await created.drop();
      },
    };
  }
  if (options.migrate !== false) await migrate(handle.db);
  return handle;
}

export function engineNames(): EngineName[] {
  return requireService('TEST_DATABASE_URL') ? ['pglite', 'postgres'] : ['pglite'];
}

/**
 * describe() once per engine, with a migrated database of its own opened before and dropped after:
 *   forEachEngine('products', (ctx) => { it('...', async () => { ctx.db ... }) })
 */
export function forEachEngine(
  title: string,
  body: (ctx: { readonly db: Database; readonly engine: EngineName; readonly url: string | null }) => void,
): void {
  for (const engine of engineNames()) {
    describe(`${title} [${engine}]`, () => {
      let handle: TestDatabase | undefined;
      const ctx = {
        engine,
        get db(): Database {
          if (!handle) throw new Error('database not open yet');
          return handle.db;
        },
        get url() {
          return handle?.url ?? null;
        },
      };
      before(async () => {
        handle = await openTestDatabase(engine);
      });
      after(async () => {
        await handle?.drop();
      });
      body(ctx);
    });
  }
}
