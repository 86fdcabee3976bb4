import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCartService } from '../../src/modules/cart/service.js';
import { createCatalogService } from '../../src/modules/catalog/service.js';
import { createOrdersService } from '../../src/modules/orders/service.js';
import { createPaymentsService } from '../../src/modules/payments/service.js';
import { createTestPaymentProvider } from '../../src/modules/payments/test-provider.js';
import { createReviewsService } from '../../src/modules/reviews/service.js';
import {
  CACHE_INVALIDATE_JOB,
  recordInvalidation,
  registerCacheJobs,
} from '../../src/platform/cache/invalidation-job.js';
import { createResponseCache, type ResponseCache } from '../../src/platform/cache/response-cache.js';
import { createJobRegistry, PermanentJobError } from '../../src/platform/jobs/registry.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { runCacheJobsUntil } from '../helpers/jobs.js';
import { freePort } from '../helpers/ports.js';
import { addToCart, checkout, newShopper } from '../orders/shop.js';

/**
 * A process that dies between a write's commit and its cache bump: played by services built without the cache
 * (they write, and never bump). The job the write recorded in its transaction must then drop the old answers.
 */
forEachEngine('cache invalidation that survives a process dying after the commit', (ctx) =>
  describe('durable invalidation', () => {
    let t: TestApp;
    let categoryId: number;
    const dying = () => createCatalogService({ db: ctx.db });
    const get = async (url: string) => {
      const res = await t.app.inject({ method: 'GET', url });
      return { status: res.statusCode, body: res.statusCode === 200 ? res.json() : null };
    };
    const afterJobs = (what: string, done: () => Promise<boolean>) =>
      runCacheJobsUntil(ctx.db, t.app.responseCache, what, done);

    before(async () => {
      t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0' } });
      categoryId = await insertCategory(ctx.db, 'Durable');
    });
    after(() => t.close());

    it('drops a product edit and a deletion from the cached detail and lists', async () => {
      const edited = await insertProduct(ctx.db, { name: 'Lamp', price: '30.00', categoryId });
      const deleted = await insertProduct(ctx.db, { name: 'Vase', price: '12.00', categoryId });
      const list = `/api/products/?category_id=${categoryId}&sort=price`;
      assert.equal((await get(`/api/products/${edited}/`)).body.price, '30.00');
      assert.equal((await get(`/api/products/${deleted}/`)).status, 200);
      const names = async () => (await get(list)).body.items.map((item: { name: string }) => item.name);
      assert.deepEqual(await names(), ['Vase', 'Lamp']);

      await dying().updateProduct(edited, { price: '35.00' });
      await dying().deleteProduct(deleted);
      assert.equal((await get(`/api/products/${edited}/`)).body.price, '30.00', 'still the cached answer');
      assert.equal((await get(`/api/products/${deleted}/`)).status, 200, 'still the cached answer');

      await afterJobs('the edit and the deletion to show', async () => {
        const detail = await get(`/api/products/${edited}/`);
        return detail.body.price === '35.00' && (await get(`/api/products/${deleted}/`)).status === 404;
      });
      // The list pages too: both jobs name `products` (a list entry also ends by itself after LIST_TTL_MS).
      const { rows } = await ctx.db.query<{ deps: string[] }>(
        `SELECT payload->'deps' AS deps FROM outbox_jobs
          WHERE type = $1 AND payload->'deps' ?| $2::text[] ORDER BY id`,
        [CACHE_INVALIDATE_JOB, [`product:${edited}`, `product:${deleted}`]],
      );
      assert.deepEqual(
        rows.map((row) => [...row.deps].sort()),
        [[`product:${edited}`, 'products'].sort(), [`product:${deleted}`, 'products'].sort()],
      );
      assert.deepEqual(await names(), ['Lamp']);
    });

    it('drops a category rename from the cached category list', async () => {
      const id = await insertCategory(ctx.db, 'Garden');
      const named = async () =>
        (await get('/api/categories/')).body.items.find((category: { id: number }) => category.id === id)
          ?.name;
      assert.equal(await named(), 'Garden');
      await dying().updateCategory(id, { name: 'Yard' });
      assert.equal(await named(), 'Garden', 'still the cached answer');
      await afterJobs('the new name to show', async () => (await named()) === 'Yard');
    });

    it("drops a review's new rating from the cached detail", async () => {
      const productId = await insertProduct(ctx.db, { name: 'Rug', categoryId });
      const rating = async () => (await get(`/api/products/${productId}/`)).body.rating;
      assert.deepEqual(await rating(), { average: 0, count: 0 });
      const reviewer = await newShopper(t, ctx.db);
      await createReviewsService({ db: ctx.db, catalog: dying() }).create(
        { id: reviewer.id, role: 'customer' },
        productId,
        { rating: 4 },
      );
      assert.deepEqual(await rating(), { average: 0, count: 0 }, 'still the cached answer');
      await afterJobs('the rating to show', async () => (await rating()).count === 1);
      assert.deepEqual(await rating(), { average: 4, count: 1 });
    });

    it('drops the stock a cancellation returned from the cached detail', async () => {
      const productId = await insertProduct(ctx.db, { price: '5.00', stock: 6, categoryId });
      const stockShown = async () => (await get(`/api/products/${productId}/`)).body.stock_quantity;
      const shopper = await newShopper(t, ctx.db);
      await addToCart(t, shopper, productId, 2);
      const placed = await checkout(t, shopper);
      assert.equal(placed.statusCode, 201);
      assert.equal(await stockShown(), 4);
      const orders = createOrdersService({
        db: ctx.db,
        cart: createCartService({ db: ctx.db }),
        payments: createPaymentsService({ db: ctx.db, provider: createTestPaymentProvider() }),
        stockChanged: async () => {},
      });
      await orders.cancelOrder({ id: shopper.id, role: 'customer' }, placed.json().id);
      assert.equal(await stockShown(), 4, 'still the cached answer');
      await afterJobs('the returned stock to show', async () => (await stockShown()) === 6);
    });

    it('records nothing for a write that rolled back, nor for a review edit that left the rating', async () => {
      const jobs = async () =>
        Number(
          (
            await ctx.db.query<{ n: string }>('SELECT count(*) AS n FROM outbox_jobs WHERE type = $1', [
              CACHE_INVALIDATE_JOB,
            ])
          ).rows[0]?.n,
        );
      const productId = await insertProduct(ctx.db, { name: 'Stool', categoryId });
      const reviewer = await newShopper(t, ctx.db);
      const author = { id: reviewer.id, role: 'customer' } as const;
      const reviews = createReviewsService({ db: ctx.db, catalog: dying() });
      const review = await reviews.create(author, productId, { rating: 2 });
      const before = await jobs();
      await assert.rejects(
        ctx.db.transaction(async (tx) => {
          await recordInvalidation(tx, [`product:${productId}`]);
          throw new Error('the write failed after recording its bump');
        }),
        /the write failed/,
      );
      await reviews.update(author, review.id, { comment: 'Sturdy' });
      assert.equal(await jobs(), before);
      await reviews.update(author, review.id, { rating: 3 });
      assert.equal(await jobs(), before + 1);
    });
  }),
);

describe('the invalidation job', () => {
  it('fails, to be retried, while Redis cannot take the bump; refuses a malformed payload for good', async () => {
    const down = createResponseCache({ redisUrl: `redis://127.0.0.1:${await freePort()}`, namespace: 'd' });
    const local = createResponseCache({ redisUrl: null, namespace: 'l' });
    const run = (cache: ResponseCache, payload: unknown) => {
      const registry = createJobRegistry();
      registerCacheJobs(registry, cache);
      const job = registry.definition(CACHE_INVALIDATE_JOB);
      assert.ok(job);
      return job.run(payload, { id: 1, attempt: 1 });
    };
    try {
      await down.ready(300);
      assert.equal(down.status(), 'down');
      await assert.rejects(run(down, { deps: ['product:1'] }), /Redis did not take the bump/);
      await run(local, { deps: ['product:1', 'products'] });
      await assert.rejects(run(local, { deps: [] }), PermanentJobError);
    } finally {
      await down.close();
      await local.close();
    }
  });
});
