import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { type Database, migrate } from '../../src/platform/db/index.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { enqueue } from '../../src/platform/jobs/outbox.js';
import { createJobRegistry } from '../../src/platform/jobs/registry.js';
import { startJobRunner } from '../../src/platform/jobs/runner.js';
import { buildTestApp } from '../helpers/app.js';
import { createPostgresDatabase, requireService } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { addToCart, checkout, fastRunner, newShopper, orderState, waitFor } from '../orders/shop.js';

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
      await db.background.transaction(async (tx) => {
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
      await db.background.transaction((tx) => enqueue(tx, 'test.pool', { n: 1 }));
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

  it("captures a checkout's payment and mails it while requests hold every connection of the main pool", async () => {
    const t = await buildTestApp(db);
    try {
      const category = await insertCategory(db, 'Pool');
      const product = await insertProduct(db, { categoryId: category, stock: 5 });
      const shopper = await newShopper(t, db);
      await addToCart(t, shopper, product, 1);
      const placed = await checkout(t, shopper);
      assert.equal(placed.statusCode, 201, placed.body);
      const orderId = placed.json<{ id: number }>().id;

      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const holders = [1, 2].map(() => db.transaction(() => held));
      const runner = await fastRunner(db, t.app.jobs);
      try {
        // The app's handlers (capture, then the confirmation mail) were built on db.background: with the main
        // pool held they still run, and the order is read here through the background pool too.
        await waitFor(
          'the capture and the confirmation mail, with the main pool held',
          async () => {
            const { rows } = await db.background.query<{ pending: number }>(
              "SELECT count(*)::int AS pending FROM outbox_jobs WHERE status <> 'done'",
            );
            return rows[0]?.pending === 0;
          },
          10_000,
        );
        assert.deepEqual(await orderState(db.background, orderId), {
          order_status: 'paid',
          payment_status: 'succeeded',
        });
        assert.equal(db.poolUse?.().find((pool) => pool.pool === 'primary')?.busy, 2);
      } finally {
        release();
        await Promise.all(holders);
        await runner.stop();
      }
    } finally {
      await t.close();
    }
  });
});
