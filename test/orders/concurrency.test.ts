import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { addToCart, checkout, newKey, newShopper, type Shopper, stockOf } from './shop.js';

// Real parallelism needs PostgreSQL: PGlite is one connection, so it runs transactions one after another.
forEachEngine('concurrent checkouts', (ctx) =>
  describe('race', { skip: ctx.engine === 'pglite' ? 'PostgreSQL only (PGlite serializes)' : false }, () => {
    let t: TestApp;
    let categoryId: number;
    before(async () => {
      t = await buildTestApp(ctx.db);
      categoryId = await insertCategory(ctx.db, 'Race');
    });
    after(() => t.close());

    const count = async (sql: string, params: unknown[]) =>
      (await ctx.db.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0;

    it('sells 50 units to exactly 50 of 200 simultaneous buyers; the 150 others get a clean 409 and keep their carts', async () => {
      const productId = await insertProduct(ctx.db, {
        name: 'Hot item',
        price: '49.99',
        stock: 50,
        categoryId,
      });
      const buyers: Shopper[] = [];
      for (let i = 0; i < 200; i += 1) {
        const buyer = await newShopper(t, ctx.db);
        await addToCart(t, buyer, productId, 1);
        buyers.push(buyer);
      }
      const answers = await Promise.all(buyers.map((buyer) => checkout(t, buyer)));
      const statuses = answers.map((res) => res.statusCode);
      assert.equal(statuses.filter((status) => status === 201).length, 50);
      assert.equal(statuses.filter((status) => status === 409).length, 150, statuses.join(','));
      for (const res of answers.filter((answer) => answer.statusCode === 409)) {
        const problem = res.json();
        assert.equal(problem.type, '/problems/insufficient-stock');
        assert.deepEqual(
          problem.errors.map((e: { product_id: number; requested: number; available: number }) => [
            e.product_id,
            e.requested,
            e.available,
          ]),
          [[productId, 1, 0]],
        );
      }
      assert.equal(await stockOf(ctx.db, productId), 0);
      assert.equal(
        await count('SELECT count(*)::int AS n FROM order_items WHERE product_id = $1', [productId]),
        50,
      );
      const losers = buyers.filter((_, i) => answers[i]?.statusCode === 409).map((buyer) => buyer.id);
      assert.equal(
        await count(
          `SELECT count(*)::int AS n FROM cart_items ci JOIN shopping_carts c ON c.id = ci.cart_id
            WHERE c.user_id = ANY($1::int[]) AND ci.product_id = $2 AND ci.quantity = 1`,
          [losers, productId],
        ),
        150,
      );
    });

    it('makes one order from 20 simultaneous identical requests with one key, and all answers agree', async () => {
      const productId = await insertProduct(ctx.db, { price: '3.33', stock: 100, categoryId });
      const buyer = await newShopper(t, ctx.db);
      await addToCart(t, buyer, productId, 3);
      const key = newKey();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => checkout(t, buyer, 'tok_visa', key)),
      );
      assert.deepEqual(new Set(answers.map((res) => res.statusCode)), new Set([201]));
      assert.equal(new Set(answers.map((res) => res.body)).size, 1);
      assert.equal(answers.filter((res) => res.headers['idempotent-replayed'] === 'true').length, 19);
      assert.equal(await count('SELECT count(*)::int AS n FROM orders WHERE user_id = $1', [buyer.id]), 1);
      assert.equal(await stockOf(ctx.db, productId), 97);
    });

    it('turns one cart into one order when the same buyer checks out with two keys at once', async () => {
      const productId = await insertProduct(ctx.db, { price: '1.00', stock: 100, categoryId });
      const buyer = await newShopper(t, ctx.db);
      await addToCart(t, buyer, productId, 5);
      const answers = await Promise.all([checkout(t, buyer), checkout(t, buyer)]);
      assert.deepEqual(answers.map((res) => res.statusCode).sort(), [201, 400]);
      assert.equal(await stockOf(ctx.db, productId), 95);
    });
  }),
);
