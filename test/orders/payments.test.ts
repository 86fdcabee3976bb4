import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TransientPaymentError } from '../../src/modules/payments/provider.js';
import { createTestPaymentProvider } from '../../src/modules/payments/test-provider.js';
import { DEFAULT_MAX_ATTEMPTS } from '../../src/platform/jobs/registry.js';
import type { JobRunner } from '../../src/platform/jobs/runner.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import {
  addToCart,
  checkout,
  fastRunner,
  mailbox,
  newShopper,
  orderState,
  stockOf,
  waitFor,
} from './shop.js';

describe('test payment provider', () => {
  it('returns the first result for a repeated key and charges once', async () => {
    const provider = createTestPaymentProvider();
    const first = await provider.authorizeAndCapture({
      idempotencyKey: 'payment-1',
      amount: '5.00',
      token: 'tok_visa',
    });
    const again = await provider.authorizeAndCapture({
      idempotencyKey: 'payment-1',
      amount: '5.00',
      token: 'tok_visa',
    });
    assert.deepEqual(again, first);
    assert.equal(first.status, 'succeeded');
    assert.equal(provider.charges, 1);
  });

  it('fails tok_flaky transiently twice, then captures', async () => {
    const provider = createTestPaymentProvider();
    const call = () =>
      provider.authorizeAndCapture({ idempotencyKey: 'payment-2', amount: '1.00', token: 'tok_flaky' });
    await assert.rejects(call, TransientPaymentError);
    await assert.rejects(call, TransientPaymentError);
    assert.equal((await call()).status, 'succeeded');
    assert.equal(provider.charges, 1);
  });

  it('declines tok_declined and unknown tokens without charging', async () => {
    const provider = createTestPaymentProvider();
    const declined = await provider.authorizeAndCapture({
      idempotencyKey: 'p-3',
      amount: '1.00',
      token: 'tok_declined',
    });
    const unknown = await provider.authorizeAndCapture({
      idempotencyKey: 'p-4',
      amount: '1.00',
      token: 'tok_other',
    });
    assert.deepEqual([declined.status, unknown.status], ['declined', 'declined']);
    assert.equal(provider.charges, 0);
  });

  it('remembers a bounded number of keys, the most recent ones, however many payments it takes', async () => {
    const provider = createTestPaymentProvider({ rememberedKeys: 3 });
    const capture = (key: string) =>
      provider.authorizeAndCapture({ idempotencyKey: key, amount: '1.00', token: 'tok_visa' });
    for (let n = 1; n <= 50; n++) {
      await capture(`payment-${n}`);
      await provider.refund({
        idempotencyKey: `refund-${n}`,
        amount: '1.00',
        reference: `test_ch_payment-${n}`,
      });
    }
    assert.equal(provider.rememberedKeys, 6);
    assert.equal(provider.charges, 50);
    assert.deepEqual(await capture('payment-50'), { status: 'succeeded', reference: 'test_ch_payment-50' });
    assert.equal(provider.charges, 50, 'a recent key is still a replay');
  });
});

forEachEngine('payments and order emails', (ctx) =>
  // A nested suite, so the runner stops before forEachEngine closes the database.
  describe('with a job runner', () => {
    let t: TestApp;
    let runner: JobRunner;
    let categoryId: number;

    before(async () => {
      t = await buildTestApp(ctx.db);
      runner = await fastRunner(ctx.db, t.app.jobs);
      categoryId = await insertCategory(ctx.db, 'Payments');
    });
    after(async () => {
      await runner.stop();
      await t.close();
    });

    async function placeOrder(token: string, lines: [price: string, quantity: number][]) {
      const shopper = await newShopper(t, ctx.db);
      const products: number[] = [];
      for (const [price, quantity] of lines) {
        const id = await insertProduct(ctx.db, { name: `Item at ${price}`, price, stock: 20, categoryId });
        products.push(id);
        await addToCart(t, shopper, id, quantity);
      }
      const res = await checkout(t, shopper, token);
      assert.equal(res.statusCode, 201, res.body);
      return { shopper, order: res.json(), products };
    }

    const mailsAbout = (orderId: number) =>
      mailbox(t.dataDir).filter((mail) => mail.includes(`Order #${orderId}`));

    it('captures tok_visa: the order is paid and the confirmation lists items, quantities, prices and total', async () => {
      const { order } = await placeOrder('tok_visa', [
        ['19.99', 3],
        ['0.10', 3],
      ]);
      await waitFor('the confirmation', async () => mailsAbout(order.id).length > 0);
      assert.deepEqual(await orderState(ctx.db, order.id), {
        order_status: 'paid',
        payment_status: 'succeeded',
      });
      const mails = mailsAbout(order.id);
      assert.equal(mails.length, 1);
      const mail = mails[0] as string;
      assert.match(mail, new RegExp(`^Subject: Order #${order.id} confirmed$`, 'm'));
      assert.match(mail, /3 x Item at 19\.99 at 19\.99 = 59\.97/);
      assert.match(mail, /3 x Item at 0\.10 at 0\.10 = 0\.30/);
      assert.match(mail, /Total: 60\.27/);
      assert.match(mail, /Content-Type: text\/html/);
      assert.match(mail, /Content-Type: text\/plain/);
    });

    it('retries tok_flaky with backoff until it is captured', async () => {
      const { order } = await placeOrder('tok_flaky', [['5.00', 1]]);
      await waitFor('the flaky payment to be captured', async () => {
        const state = await orderState(ctx.db, order.id);
        return state.order_status === 'paid';
      });
      // The runner marks a finished job done with its next claim, a moment later.
      const job = async () =>
        (
          await ctx.db.query<{ attempts: number; status: string }>(
            `SELECT attempts, status FROM outbox_jobs WHERE type = 'payment.capture' AND payload->>'order_id' = $1`,
            [String(order.id)],
          )
        ).rows;
      await waitFor('the capture job to be marked done', async () => (await job())[0]?.status === 'done');
      assert.deepEqual(await job(), [{ attempts: 3, status: 'done' }]);
      await waitFor('the confirmation', async () => mailsAbout(order.id).length === 1);
    });

    it('cancels the order on tok_declined, returns the stock, fails the payment and mails the customer', async () => {
      const { order, products } = await placeOrder('tok_declined', [['8.00', 4]]);
      await waitFor('the decline mail', async () => mailsAbout(order.id).length > 0);
      assert.deepEqual(await orderState(ctx.db, order.id), {
        order_status: 'canceled',
        payment_status: 'failed',
      });
      assert.equal(await stockOf(ctx.db, products[0] as number), 20);
      const mail = mailsAbout(order.id)[0] as string;
      assert.match(mail, new RegExp(`^Subject: Order #${order.id}: payment declined$`, 'm'));
    });

    it('cancels the order and returns the stock when the provider never answers, after the last attempt', async () => {
      const { order, products } = await placeOrder('tok_unreachable', [['6.00', 5]]);
      assert.equal(await stockOf(ctx.db, products[0] as number), 15);
      await waitFor('the failure mail', async () => mailsAbout(order.id).length > 0);
      assert.deepEqual(await orderState(ctx.db, order.id), {
        order_status: 'canceled',
        payment_status: 'failed',
      });
      const job = async () =>
        (
          await ctx.db.query<{ attempts: number; status: string; reason: string }>(
            `SELECT j.attempts, j.status, p.failure_reason AS reason
               FROM outbox_jobs j JOIN payments p ON p.order_id = $1
              WHERE j.type = 'payment.capture' AND j.payload->>'order_id' = $1::text`,
            [order.id],
          )
        ).rows;
      await waitFor('the capture job to be marked done', async () => (await job())[0]?.status === 'done');
      // Every attempt was made, and the last one settled the payment instead of leaving the job dead.
      assert.deepEqual(await job(), [
        { attempts: DEFAULT_MAX_ATTEMPTS, status: 'done', reason: 'provider_unavailable' },
      ]);
      assert.equal(await stockOf(ctx.db, products[0] as number), 20);
    });

    it('refunds a paid order that its owner cancels, restocking once', async () => {
      const { shopper, order, products } = await placeOrder('tok_visa', [['30.00', 2]]);
      await waitFor('payment', async () => (await orderState(ctx.db, order.id)).order_status === 'paid');
      const cancel = () =>
        t.app.inject({ method: 'POST', url: `/api/orders/${order.id}/cancel/`, headers: shopper.auth });
      const [first, second] = await Promise.all([cancel(), cancel()]);
      assert.deepEqual([first.statusCode, second.statusCode].sort(), [200, 409]);
      assert.equal(await stockOf(ctx.db, products[0] as number), 20);
      await waitFor('refund', async () => (await orderState(ctx.db, order.id)).payment_status === 'refunded');
      assert.equal((await cancel()).statusCode, 409);
      assert.equal(await stockOf(ctx.db, products[0] as number), 20);
    });
  }),
);
