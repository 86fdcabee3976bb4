import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { enqueue } from '../../src/platform/jobs/outbox.js';
import { bearer, signUp } from '../helpers/accounts.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { addToCart, checkout, fastRunner, newKey, orderState, waitFor } from '../orders/shop.js';
import { sampleOf } from './scrape.js';

// The registry is per process and other suites of this file count too: every check compares before/after.
forEachEngine('business and job metrics', (ctx) => {
  let t: TestApp;
  const scrape = async () => {
    const res = await t.app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    return res.body;
  };

  before(async () => {
    t = await buildTestApp(ctx.db, {
      extend: (app) => {
        app.jobs.register('test.metrics_ok', Type.Object({}), async () => {});
        app.jobs.register(
          'test.metrics_fail',
          Type.Object({}),
          async () => {
            throw new Error('always fails');
          },
          { maxAttempts: 2 },
        );
      },
    });
  });
  after(() => t.close());

  it('counts a registration, a failed login, and a placed order with its exact revenue, once', async () => {
    const categoryId = await insertCategory(ctx.db, 'Metrics');
    const product = await insertProduct(ctx.db, { price: '19.99', stock: 10, categoryId });
    const before = await scrape();

    const account = await signUp(t.app);
    const failed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: account.user.username, password: 'not the password at all' },
    });
    assert.equal(failed.statusCode, 401);
    const shopper = { id: account.user.id, auth: bearer(account.access) };
    await addToCart(t, shopper, product, 3);
    const key = newKey();
    const placed = await checkout(t, shopper, 'tok_visa', key);
    assert.equal(placed.statusCode, 201, placed.body);
    assert.equal(placed.json().total_amount, '59.97');
    const replay = await checkout(t, shopper, 'tok_visa', key);
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.json().id, placed.json().id);
    const empty = await checkout(t, shopper);
    assert.equal(empty.statusCode, 400, 'the emptied cart cannot be ordered again');

    const now = await scrape();
    const delta = (name: string) => sampleOf(now, name) - sampleOf(before, name);
    assert.equal(delta('bazaar_registrations_total'), 1);
    assert.equal(delta('bazaar_login_failures_total'), 1);
    assert.equal(delta('bazaar_orders_placed_total'), 1, 'the replay and the empty cart count nothing');
    assert.equal(delta('bazaar_revenue_cents_total'), 5997);
  });

  it('counts a declined payment once, and the jobs the in-process runner ran by type and outcome', async () => {
    const categoryId = await insertCategory(ctx.db, 'Metrics declined');
    const product = await insertProduct(ctx.db, { price: '5.00', stock: 10, categoryId });
    const account = await signUp(t.app);
    const shopper = { id: account.user.id, auth: bearer(account.access) };
    await addToCart(t, shopper, product, 1);
    const before = await scrape();
    const placed = await checkout(t, shopper, 'tok_declined');
    assert.equal(placed.statusCode, 201, placed.body);
    await ctx.db.transaction(async (tx) => {
      await enqueue(tx, 'test.metrics_ok', {});
      await enqueue(tx, 'test.metrics_fail', {});
    });

    const runner = await fastRunner(ctx.db, t.app.jobs);
    try {
      await waitFor('the capture to fail', async () => {
        const state = await orderState(ctx.db, placed.json().id);
        return state.payment_status === 'failed';
      });
      await waitFor('the failing job to go dead', async () => {
        const { rows } = await ctx.db.query<{ status: string }>(
          `SELECT status FROM outbox_jobs WHERE type = 'test.metrics_fail'`,
        );
        return rows[0]?.status === 'dead';
      });
    } finally {
      await runner.stop();
    }

    const now = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      sampleOf(now, name, labels) - sampleOf(before, name, labels);
    assert.equal(delta('bazaar_payment_failures_total', { reason: 'declined' }), 1);
    // The runner also captured the previous test's order: every capture row in this database ran now.
    const { rows } = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox_jobs WHERE type = 'payment.capture' AND status = 'done'`,
    );
    assert.ok((rows[0]?.n ?? 0) >= 1);
    assert.equal(delta('bazaar_jobs_total', { type: 'payment.capture', outcome: 'done' }), rows[0]?.n);
    assert.equal(delta('bazaar_jobs_total', { type: 'test.metrics_ok', outcome: 'done' }), 1);
    assert.equal(delta('bazaar_jobs_total', { type: 'test.metrics_fail', outcome: 'retried' }), 1);
    assert.equal(delta('bazaar_jobs_total', { type: 'test.metrics_fail', outcome: 'failed' }), 1);
    assert.equal(delta('bazaar_job_duration_seconds_count', { type: 'test.metrics_fail' }), 2);
    assert.equal(delta('bazaar_job_duration_seconds_count', { type: 'test.metrics_ok' }), 1);
  });
});
