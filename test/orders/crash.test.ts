import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createCartService } from '../../src/modules/cart/service.js';
import { registerOrderJobs } from '../../src/modules/orders/jobs.js';
import { createOrdersService } from '../../src/modules/orders/service.js';
import { createPaymentsService } from '../../src/modules/payments/service.js';
import { createTestPaymentProvider } from '../../src/modules/payments/test-provider.js';
import { createUsersService } from '../../src/modules/users/service.js';
import { createJobRegistry } from '../../src/platform/jobs/registry.js';
import { startJobRunner } from '../../src/platform/jobs/runner.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { exitOf, waitForOutput } from '../helpers/cli.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { addToCart, checkout, fastRunner, mailbox, newKey, newShopper, orderState, waitFor } from './shop.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

forEachEngine('a runner that dies mid-job', (ctx) =>
  describe('crash', () => {
    let t: TestApp;
    let categoryId: number;
    before(async () => {
      t = await buildTestApp(ctx.db);
      categoryId = await insertCategory(ctx.db, 'Crash');
    });
    after(() => t.close());

    async function placePaidOrderJob() {
      const shopper = await newShopper(t, ctx.db);
      await addToCart(t, shopper, await insertProduct(ctx.db, { price: '15.00', stock: 5, categoryId }), 1);
      const res = await checkout(t, shopper);
      assert.equal(res.statusCode, 201);
      return res.json().id as number;
    }
    const confirmations = (orderId: number) =>
      mailbox(t.dataDir).filter((mail) => mail.includes(`Subject: Order #${orderId} confirmed`));
    const emailJob = async (orderId: number) =>
      (
        await ctx.db.query<{ status: string; attempts: number }>(
          `SELECT status, attempts FROM outbox_jobs
            WHERE type = 'order.confirmation_email' AND payload->>'order_id' = $1`,
          [String(orderId)],
        )
      ).rows[0];

    async function expectOneConfirmationFromAFreshRunner(orderId: number) {
      const fresh = await fastRunner(ctx.db, t.app.jobs);
      try {
        await waitFor('the confirmation', async () => confirmations(orderId).length > 0);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await fresh.stop();
      }
      assert.equal(confirmations(orderId).length, 1);
      assert.deepEqual(await emailJob(orderId), { status: 'done', attempts: 2 });
    }

    it('sends the confirmation once after a runner stuck in the send loses its lease', async () => {
      const orderId = await placePaidOrderJob();
      const registry = createJobRegistry();
      const payments = createPaymentsService({ db: ctx.db, provider: createTestPaymentProvider() });
      let sending = false;
      let release: () => void = () => {};
      registerOrderJobs(registry, {
        db: ctx.db,
        payments,
        users: createUsersService({ db: ctx.db }),
        stockChanged: async () => {},
        mailer: {
          send: async () => {
            sending = true;
            await new Promise<void>((resolve) => (release = resolve));
          },
          close: async () => {},
        },
      });
      const dying = await startJobRunner({
        db: ctx.db,
        registry,
        logger: pino({ level: 'silent' }),
        concurrency: 1,
        leaseMs: 500,
        idlePollMs: 50,
      });
      await waitFor('the send to start', async () => sending);
      assert.equal((await orderState(ctx.db, orderId)).order_status, 'paid');
      assert.equal(confirmations(orderId).length, 0);
      await expectOneConfirmationFromAFreshRunner(orderId);
      // The stuck runner wakes up late: its claim is stale, so finishing changes nothing.
      release();
      await dying.stop();
      assert.deepEqual(await emailJob(orderId), { status: 'done', attempts: 2 });
    });

    it('sends the confirmation once after the runner process is killed with SIGKILL', async (test) => {
      if (ctx.url === null) return test.skip('needs a database shared between processes (PostgreSQL)');
      const orderId = await placePaidOrderJob();
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/orders/dying-runner.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: ctx.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        await waitForOutput(child, new RegExp(`SENDING Order #${orderId} confirmed`), 60_000);
      } finally {
        child.kill('SIGKILL');
      }
      await exitOf(child);
      assert.equal((await orderState(ctx.db, orderId)).order_status, 'paid');
      assert.deepEqual(await emailJob(orderId), { status: 'running', attempts: 1 });
      assert.equal(confirmations(orderId).length, 0);
      await expectOneConfirmationFromAFreshRunner(orderId);
    });

    it('drops the cached stock from the capture job when the checkout died before telling the cache', async () => {
      const productId = await insertProduct(ctx.db, { price: '4.00', stock: 7, categoryId });
      const stockShown = async () =>
        (await t.app.inject({ method: 'GET', url: `/api/products/${productId}/` })).json().stock_quantity;
      assert.equal(await stockShown(), 7);
      // The process that places this order dies between its commit and telling the cache: its orders service
      // never calls stockChanged. The capture job it committed is all that is left.
      const payments = createPaymentsService({ db: ctx.db, provider: createTestPaymentProvider() });
      const dying = createOrdersService({
        db: ctx.db,
        cart: createCartService({ db: ctx.db }),
        payments,
        stockChanged: async () => {},
      });
      const shopper = await newShopper(t, ctx.db);
      await addToCart(t, shopper, productId, 3);
      const placed = await dying.placeOrder(
        { id: shopper.id, role: 'customer' },
        CARD,
        newKey(),
        'req-dying',
      );
      assert.equal(placed.status, 201);
      assert.equal(await stockShown(), 7, 'the cache still shows the stock from before the order');
      const runner = await fastRunner(ctx.db, t.app.jobs);
      try {
        await waitFor('the capture job to drop the cached stock', async () => (await stockShown()) === 4);
      } finally {
        await runner.stop();
      }
    });
  }),
);

const CARD = { payment_method: 'card', payment_token: 'tok_visa' } as const;
