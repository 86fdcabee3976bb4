import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { type Database, inBackground, migrate } from '../../src/platform/db/index.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { enqueue } from '../../src/platform/jobs/outbox.js';
import { createJobRegistry } from '../../src/platform/jobs/registry.js';
import { startJobRunner } from '../../src/platform/jobs/runner.js';
import { createPostgresDatabase, requireService } from '../helpers/engines.js';
import { waitFor } from '../orders/shop.js';

const adminUrl = requireService('TEST_DATABASE_URL');

/** PGlite has a single connection, shared by all; the background pool is PostgreSQL's. */
describe('the job runner on its own connections', { skip: !adminUrl }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let db: Database;
  before(async () => {
    database = await createPostgresDatabase(adminUrl as string);
    db = await openPostgres({ url: database.url, poolSize: 2, backgroundPoolSize: 2 });
    await migrate(db);
  });
  after(async () => {
    await db?.close();
    await database?.drop();
  });

  it('runs jobs while requests hold every connection of the main pool', async () => {
    const registry = createJobRegistry();
    const ran: number[] = [];
    registry.register('test.pool', Type.Object({ n: Type.Integer() }), async ({ n }) => {
      await db.transaction(async (tx) => {
        await tx.query('SELECT 1');
      });
      ran.push(n);
    });
    // Two "requests" take both connections of the main pool and keep them until released.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holders = [1, 2].map(() => db.transaction(() => held));
    // A third waits in the main pool's queue all along.
    const queued = db.query<{ one: number }>('SELECT 1 AS one');
    const runner = await startJobRunner({ db, registry, logger: pino({ level: 'silent' }), idlePollMs: 50 });
    try {
      // The enqueue itself runs in the background too, as a job's own statements would.
      await inBackground(() => db.transaction((tx) => enqueue(tx, 'test.pool', { n: 1 })));
      await waitFor('the job, with the main pool still held', async () => ran.length === 1, 5_000);
      const use = db.poolUse?.() ?? [];
      assert.equal(use.find((pool) => pool.pool === 'primary')?.busy, 2);
      assert.ok((use.find((pool) => pool.pool === 'primary')?.waiting ?? 0) >= 1);
    } finally {
      release();
      await Promise.all(holders);
      assert.equal((await queued).rows[0]?.one, 1);
      await runner.stop();
    }
  });
});
