import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { claimDueJobs, enqueue } from '../../src/platform/jobs/outbox.js';
import { createJobRegistry, PermanentJobError } from '../../src/platform/jobs/registry.js';
import { retryDelayMs, startJobRunner } from '../../src/platform/jobs/runner.js';
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

    it('spaces retries exponentially, with jitter, up to a cap', () => {
      const backoff = { baseMs: 100, maxMs: 1_000 };
      for (const [attempt, nominal] of [
        [1, 100],
        [2, 200],
        [3, 400],
        [5, 1_000],
        [40, 1_000],
      ] as const) {
        for (let i = 0; i < 20; i += 1) {
          const delay = retryDelayMs(attempt, backoff);
          assert.ok(delay >= nominal / 2 && delay <= nominal, `attempt ${attempt}: ${delay}`);
        }
      }
    });

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
      // Backoff doubles, with jitter between 50% and 100%: each wait lasts at least half its nominal delay
      // (a busy machine can only make waits longer, so only the lower bounds are checked).
      const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
      gaps.forEach((gap, i) => {
        assert.ok(gap >= 50 * 2 ** i - 5, `gaps ${gaps.join(', ')}`);
      });

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

    it('marks finished jobs done with its next claim: no statement of their own', async () => {
      const registry = createJobRegistry();
      let ran = 0;
      registry.register('test.settle_many', Payload, async () => {
        ran += 1;
      });
      const ids = await ctx.db.transaction(async (tx) => {
        const written: number[] = [];
        for (let n = 0; n < 10; n += 1) written.push(await enqueue(tx, 'test.settle_many', { n }));
        return written;
      });
      const before = ctx.db.stats.queries;
      const runner = await startJobRunner({ db: ctx.db, registry, logger: silent, idlePollMs: 30_000 });
      // Waits without a statement of its own, so that the count below is the runner's.
      await waitFor('the ten jobs', async () => ran === 10);
      await sleep(300);
      await runner.stop();
      const statements = ctx.db.stats.queries - before;
      assert.equal(ran, 10);
      const { rows } = await ctx.db.query<{ status: string; attempts: number }>(
        'SELECT DISTINCT status, attempts FROM outbox_jobs WHERE id = ANY($1::bigint[])',
        [ids],
      );
      assert.deepEqual(rows, [{ status: 'done', attempts: 1 }]);
      // One claim took the ten, the next marked them done (a statement each would make at least twelve).
      assert.ok(statements <= 6, `${statements} statements for ten jobs`);
    });

    it('marks done at stop the jobs that finished after its last claim', async () => {
      const registry = createJobRegistry();
      let ran = false;
      registry.register('test.settle_at_stop', Payload, async () => {
        ran = true;
      });
      const id = await ctx.db.transaction((tx) => enqueue(tx, 'test.settle_at_stop', { n: 1 }));
      // The loop's next claim comes a second after its first: stop() arrives before it.
      const runner = await startJobRunner({
        db: ctx.db,
        registry,
        logger: silent,
        idlePollMs: 30_000,
        minClaimGapMs: 1_000,
      });
      await waitFor('the job', async () => ran);
      await runner.stop();
      assert.deepEqual(await jobRow(id), { status: 'done', attempts: 1, last_error: null });
    });

    it('marks at stop the finished jobs at once, without waiting for a job still running', async () => {
      const registry = createJobRegistry();
      let quickRan = false;
      let slowStarted = false;
      let releaseSlow: () => void = () => {};
      registry.register('test.stop_quick', Payload, async () => {
        quickRan = true;
      });
      registry.register('test.stop_slow', Payload, async () => {
        slowStarted = true;
        await new Promise<void>((resolve) => (releaseSlow = resolve));
      });
      const [quick, slow] = await ctx.db.transaction(async (tx) => [
        await enqueue(tx, 'test.stop_quick', { n: 1 }),
        await enqueue(tx, 'test.stop_slow', { n: 2 }),
      ]);
      const runner = await startJobRunner({
        db: ctx.db,
        registry,
        logger: silent,
        idlePollMs: 30_000,
        minClaimGapMs: 1_000,
      });
      await waitFor('both jobs to start', async () => quickRan && slowStarted);
      const stopping = runner.stop();
      try {
        // The slow job, like a provider that hangs, is still running: the quick one is marked all the same.
        await waitFor('the quick job marked', async () => (await jobRow(quick as number))?.status === 'done');
        assert.equal((await jobRow(slow as number))?.status, 'running');
      } finally {
        releaseSlow();
        await stopping;
      }
      assert.deepEqual(await jobRow(slow as number), { status: 'done', attempts: 1, last_error: null });
    });

    it('keeps the finished jobs of a failed claim, and the first claim that succeeds marks them', async () => {
      // The claim made to fail for real in this database, then put back as the migration wrote it.
      const failing = `CREATE OR REPLACE FUNCTION settle_and_claim_jobs(done_ids bigint[], done_attempts integer[],
           job_types text[], max_jobs integer, lease_ms double precision)
         RETURNS TABLE (id bigint, type text, payload jsonb, attempts integer)
         LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'claims are down'; END $$`;
      const original = readFileSync(
        new URL('../../migrations/071_settle_and_claim_jobs.sql', import.meta.url),
        'utf8',
      ).replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION');
      const registry = createJobRegistry();
      let runs = 0;
      let release: () => void = () => {};
      registry.register('test.claims_down', Payload, async () => {
        runs += 1;
        await new Promise<void>((resolve) => (release = resolve));
      });
      const id = await ctx.db.transaction((tx) => enqueue(tx, 'test.claims_down', { n: 1 }));
      const runner = await startJobRunner({ db: ctx.db, registry, logger: silent, idlePollMs: 50 });
      try {
        await waitFor('the job to start', async () => runs === 1);
        await ctx.db.query(failing);
        release();
        await sleep(300);
        assert.equal((await jobRow(id))?.status, 'running', 'no claim succeeded: the job is not marked yet');
        await ctx.db.query(original);
        await waitFor('the mark', async () => (await jobRow(id))?.status === 'done');
      } finally {
        await ctx.db.query(original);
        await runner.stop();
      }
      assert.deepEqual(await jobRow(id), { status: 'done', attempts: 1, last_error: null });
      assert.equal(runs, 1);
    });

    it('leaves to its new holder a job claimed again since the attempt that finished', async () => {
      const id = await ctx.db.transaction((tx) => enqueue(tx, 'test.fenced', { n: 1 }));
      const [first] = await claimDueJobs(ctx.db, ['test.fenced'], 1, 1);
      await sleep(20);
      // The lease of attempt 1 expired: attempt 2 is claimed while attempt 1 is still running somewhere.
      const [second] = await claimDueJobs(ctx.db, ['test.fenced'], 1, 60_000);
      assert.deepEqual([first?.attempts, second?.attempts], [1, 2]);
      assert.deepEqual(await claimDueJobs(ctx.db, ['test.fenced'], 0, 60_000, [first as never]), []);
      assert.deepEqual(await jobRow(id), { status: 'running', attempts: 2, last_error: null });
      await claimDueJobs(ctx.db, [], 0, 60_000, [second as never]);
      assert.deepEqual(await jobRow(id), { status: 'done', attempts: 2, last_error: null });
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
