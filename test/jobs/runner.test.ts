import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { enqueue } from '../../src/platform/jobs/outbox.js';
import { createJobRegistry, PermanentJobError } from '../../src/platform/jobs/registry.js';
import { startJobRunner } from '../../src/platform/jobs/runner.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { newShopper, waitFor } from '../orders/shop.js';

const silent = pino({ level: 'silent' });
const Payload = Type.Object({ n: Type.Integer() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachEngine('job outbox and runner', (ctx) =>
  describe('runner', () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(ctx.db);
    });
    after(() => t.close());

    const jobRow = async (id: number) =>
      (
        await ctx.db.query<{ status: string; attempts: number; last_error: string | null }>(
          'SELECT status, attempts, last_error FROM outbox_jobs WHERE id = $1',
          [id],
        )
      ).rows[0];

    it('never runs a job whose transaction rolled back', async () => {
      const registry = createJobRegistry();
      const seen: number[] = [];
      registry.register('test.rollback', Payload, async ({ n }) => {
        seen.push(n);
      });
      await assert.rejects(
        ctx.db.transaction(async (tx) => {
          await enqueue(tx, 'test.rollback', { n: 1 });
          throw new Error('the business change failed');
        }),
      );
      const runner = await startJobRunner({ db: ctx.db, registry, logger: silent, idlePollMs: 50 });
      await sleep(300);
      await runner.stop();
      assert.deepEqual(seen, []);
    });

    it('wakes on the commit of an enqueue, long before its idle poll', async () => {
      const registry = createJobRegistry();
      let ranAt = 0;
      registry.register('test.wake', Payload, async () => {
        ranAt = Date.now();
      });
      const runner = await startJobRunner({ db: ctx.db, registry, logger: silent, idlePollMs: 30_000 });
      try {
        await sleep(200);
        const committedAt = Date.now();
        await ctx.db.transaction((tx) => enqueue(tx, 'test.wake', { n: 1 }));
        await waitFor('the job', async () => ranAt > 0, 10_000);
        assert.ok(ranAt - committedAt < 5_000, `ran ${ranAt - committedAt} ms after commit`);
      } finally {
        await runner.stop();
      }
    });

    it('polls an idle database at most once a second', async () => {
      const registry = createJobRegistry();
      registry.register('test.idle', Payload, async () => {});
      const runner = await startJobRunner({ db: ctx.db, registry, logger: silent });
      await sleep(200);
      const before = ctx.db.stats.queries;
      await sleep(3_000);
      const polls = ctx.db.stats.queries - before;
      await runner.stop();
      assert.ok(polls <= 4, `${polls} queries in 3 s`);
    });

    it('retries a failing job with growing backoff, then marks it dead for managers to see', async () => {
      const registry = createJobRegistry();
      const attempts: number[] = [];
      registry.register(
        'test.always_fails',
        Payload,
        async () => {
          attempts.push(Date.now());
          throw new Error('the downstream is down');
        },
        { maxAttempts: 4 },
      );
      const id = await ctx.db.transaction((tx) => enqueue(tx, 'test.always_fails', { n: 7 }));
      const runner = await startJobRunner({
        db: ctx.db,
        registry,
        logger: silent,
        idlePollMs: 20,
        backoff: { baseMs: 100, maxMs: 10_000 },
      });
      try {
        await waitFor('the job to die', async () => (await jobRow(id))?.status === 'dead', 20_000);
      } finally {
        await runner.stop();
      }
      assert.deepEqual(await jobRow(id), {
        status: 'dead',
        attempts: 4,
        last_error: 'the downstream is down',
      });
      assert.equal(attempts.length, 4);
      // Backoff doubles (with jitter between 50% and 100%): the third wait is longer than the first.
      const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
      assert.ok((gaps[2] as number) > (gaps[0] as number), `gaps ${gaps.join(', ')}`);
      assert.ok((gaps[0] as number) >= 45, `gaps ${gaps.join(', ')}`);

      const manager = await newShopper(t, ctx.db, 'manager');
      const customer = await newShopper(t, ctx.db);
      const dead = await t.app.inject({ method: 'GET', url: '/api/admin/jobs/dead/', headers: manager.auth });
      assert.equal(dead.statusCode, 200);
      const listed = dead.json().items.find((job: { id: number }) => job.id === id);
      assert.deepEqual(
        { type: listed.type, payload: listed.payload, attempts: listed.attempts, error: listed.last_error },
        { type: 'test.always_fails', payload: { n: 7 }, attempts: 4, error: 'the downstream is down' },
      );
      const forbidden = await t.app.inject({
        method: 'GET',
        url: '/api/admin/jobs/dead/',
        headers: customer.auth,
      });
      assert.equal(forbidden.statusCode, 403);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/admin/jobs/dead/' })).statusCode, 401);
    });

    it('sends a malformed payload or a permanent failure straight to dead', async () => {
      const registry = createJobRegistry();
      registry.register('test.strict', Payload, async ({ n }) => {
        if (n < 0) throw new PermanentJobError('negative');
      });
      const [malformed, permanent] = await ctx.db.transaction(async (tx) => [
        await enqueue(tx, 'test.strict', { n: 'one' }),
        await enqueue(tx, 'test.strict', { n: -1 }),
      ]);
      const runner = await startJobRunner({ db: ctx.db, registry, logger: silent, idlePollMs: 20 });
      try {
        await waitFor('both dead', async () => {
          const rows = [await jobRow(malformed as number), await jobRow(permanent as number)];
          return rows.every((row) => row?.status === 'dead');
        });
      } finally {
        await runner.stop();
      }
      assert.equal((await jobRow(malformed as number))?.attempts, 1);
      assert.equal((await jobRow(permanent as number))?.attempts, 1);
    });

    it('runs again a job whose runner stopped answering once its lease expires, and ignores the late finish', async () => {
      const registry = createJobRegistry();
      let release: () => void = () => {};
      const runs: number[] = [];
      registry.register('test.lease', Payload, async (_payload, job) => {
        runs.push(job.attempt);
        // The first attempt hangs, like a process frozen or killed mid-job.
        if (job.attempt === 1) await new Promise<void>((resolve) => (release = resolve));
      });
      const id = await ctx.db.transaction((tx) => enqueue(tx, 'test.lease', { n: 1 }));
      const stuck = await startJobRunner({
        db: ctx.db,
        registry,
        logger: silent,
        concurrency: 1,
        leaseMs: 400,
      });
      await waitFor('the first attempt', async () => runs.length === 1);
      const fresh = await startJobRunner({ db: ctx.db, registry, logger: silent, idlePollMs: 50 });
      try {
        await waitFor('the second attempt to finish', async () => (await jobRow(id))?.status === 'done');
      } finally {
        await fresh.stop();
        release();
        await stuck.stop();
      }
      assert.deepEqual(runs, [1, 2]);
      assert.deepEqual(await jobRow(id), { status: 'done', attempts: 2, last_error: null });
    });
  }),
);
