import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCatalogService } from '../../src/modules/catalog/service.js';
import { GENERATION_TTL_MS } from '../../src/platform/cache/response-cache.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine, requireService } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { runCacheJobsUntil } from '../helpers/jobs.js';
import { RedisServer } from '../helpers/redis-server.js';

const sharedRedis = requireService('TEST_REDIS_URL');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(10);
  }
  return Date.now() - started;
}

describe('catalog cache over Redis', { skip: sharedRedis ? false : 'TEST_REDIS_URL is not set' }, () => {
  forEachEngine('two instances sharing Redis', (ctx) => {
    let a: TestApp;
    let b: TestApp;
    let categoryId = 0;
    const get = (t: TestApp, url: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'GET', url, headers });
    // Over real HTTP, where anonymous reads of known URLs are answered by the front door (front-door.ts).
    const bases = new Map<TestApp, string>();
    const http = async (t: TestApp, url: string) => {
      let base = bases.get(t);
      if (base === undefined) {
        base = await t.app.listen({ port: 0, host: '127.0.0.1' });
        bases.set(t, base);
      }
      const response = await fetch(`${base}${url}`);
      return { json: () => response.json() };
    };

    before(async () => {
      a = await buildTestApp(ctx.db, { env: { REDIS_URL: sharedRedis ?? '', RATE_LIMIT_FACTOR: '0' } });
      b = await buildTestApp(ctx.db, { env: { REDIS_URL: sharedRedis ?? '', RATE_LIMIT_FACTOR: '0' } });
      await until(
        async () => a.app.responseCache.status() === 'up' && b.app.responseCache.status() === 'up',
        5_000,
        'connecting to Redis',
      );
      categoryId = await insertCategory(ctx.db, 'Garden');
    });
    after(async () => {
      await a.close();
      await b.close();
    });

    it('serves an entry one instance built to the other from Redis, without a database query', async () => {
      const id = await insertProduct(ctx.db, { name: 'Rake', categoryId });
      const first = await get(a, `/api/products/${id}/`);
      await sleep(50); // the Redis write is fire-and-forget
      const queries = ctx.db.stats.queries;
      const hits = b.app.responseCache.stats.l2Hits;
      const second = await get(b, `/api/products/${id}/`);
      assert.equal(ctx.db.stats.queries, queries);
      assert.equal(b.app.responseCache.stats.l2Hits, hits + 1);
      assert.equal(second.body, first.body);
      assert.equal(second.headers.etag, first.headers.etag);
    });

    it('answers 500 concurrent requests for a cold product with one database query', async () => {
      const id = await insertProduct(ctx.db, { name: 'Hose', categoryId });
      const queries = ctx.db.stats.queries;
      const answers = await Promise.all(Array.from({ length: 500 }, () => get(a, `/api/products/${id}/`)));
      assert.equal(ctx.db.stats.queries - queries, 1);
      assert.ok(answers.every((res) => res.statusCode === 200));
    });

    it('stops serving the old version on every instance within the bound after a write elsewhere', async () => {
      const id = await insertProduct(ctx.db, { name: 'Spade', price: '12.00', categoryId });
      const list = `/api/products/?category_id=${categoryId}&limit=100`;
      for (const t of [a, b]) {
        assert.equal((await (await http(t, `/api/products/${id}/`)).json()).price, '12.00');
        await http(t, list);
      }
      await ctx.db.query(`UPDATE products SET price = '14.00' WHERE id = $1`, [id]);
      // Read once more (renewing the generation copies, should the machine be slow), then from the front door.
      await http(a, `/api/products/${id}/`);
      const answeredBefore = a.app.frontDoor.stats.answered;
      assert.equal(
        (await (await http(a, `/api/products/${id}/`)).json()).price,
        '12.00',
        'cached until announced',
      );
      assert.equal(a.app.frontDoor.stats.answered, answeredBefore + 1, 'answered at the front door');
      await createCatalogService({ db: ctx.db, cache: b.app.responseCache }).invalidateProducts([id]);
      // The writer's own instance sees it at once; the other within GENERATION_TTL_MS (500 ms).
      assert.equal((await get(b, `/api/products/${id}/`)).json().price, '14.00');
      const priceIn = async (t: TestApp, url: string) => {
        const body = await (await http(t, url)).json();
        return (body.items?.find((item: { id: number }) => item.id === id) ?? body).price;
      };
      const detailLag = await until(
        async () => (await priceIn(a, `/api/products/${id}/`)) === '14.00',
        1_000,
        'the detail update on the other instance',
      );
      const listLag = await until(
        async () => (await priceIn(a, list)) === '14.00',
        1_000,
        'the list update on the other instance',
      );
      assert.ok(detailLag <= 600 && listLag <= 600, `lags ${detailLag} ms and ${listLag} ms`);
    });

    it('drops the old version on every instance when the writer died before its bump: the job bumps Redis', async () => {
      const id = await insertProduct(ctx.db, { name: 'Shears', price: '20.00', categoryId });
      for (const t of [a, b])
        assert.equal((await (await http(t, `/api/products/${id}/`)).json()).price, '20.00');
      // The writer: a catalog service without the cache, as a process that died right after its commit.
      await createCatalogService({ db: ctx.db }).updateProduct(id, { price: '21.00' });
      await sleep(GENERATION_TTL_MS + 100); // a's copies of the generations expire: it asks Redis again
      assert.equal((await (await http(a, `/api/products/${id}/`)).json()).price, '20.00', 'no bump yet');
      // b runs the jobs; a, which never saw the write nor the job, serves the new price within the bound.
      await runCacheJobsUntil(
        ctx.db,
        b.app.responseCache,
        'the new price on the instance that never saw the write',
        async () => (await (await http(a, `/api/products/${id}/`)).json()).price === '21.00',
        5_000,
      );
    });

    it('keeps a read URL at the front door while its generation copies are read again ahead of their end', async () => {
      const id = await insertProduct(ctx.db, { name: 'Hoe', categoryId });
      const url = `/api/products/${id}/`;
      await http(a, url);
      await http(a, url);
      // 1.5 s of reads, one every 20 ms: the copies, 500 ms each, would expire three times, and each time a read
      // would go to the router and wait for Redis. Read again from 400 ms, they never expire under use.
      const answeredBefore = a.app.frontDoor.stats.answered;
      let reads = 0;
      for (const started = Date.now(); Date.now() - started < 1_500; reads += 1) {
        await http(a, url);
        await sleep(20);
      }
      const routed = reads - (a.app.frontDoor.stats.answered - answeredBefore);
      assert.ok(routed <= 1, `${routed} of ${reads} reads went to the router`);
    });
  });

  forEachEngine('Redis outage', (ctx) => {
    let redis: RedisServer;
    let t: TestApp;
    let categoryId = 0;
    const get = (url: string) => t.app.inject({ method: 'GET', url });
    const catalog = () => createCatalogService({ db: ctx.db, cache: t.app.responseCache });

    before(async () => {
      redis = await RedisServer.start();
      t = await buildTestApp(ctx.db, { env: { REDIS_URL: redis.url, RATE_LIMIT_FACTOR: '0' } });
      await until(async () => t.app.responseCache.status() === 'up', 5_000, 'connecting to Redis');
      categoryId = await insertCategory(ctx.db, 'Tools');
    });
    after(async () => {
      await t.close();
      await redis.stop();
    });

    it('serves from the database with no errors while Redis is stopped, and caches again when it is back', async () => {
      const id = await insertProduct(ctx.db, { name: 'Saw', price: '20.00', categoryId });
      const url = `/api/products/${id}/`;
      assert.equal((await get(url)).json().price, '20.00');

      await redis.stop();
      await until(async () => t.app.responseCache.status() === 'down', 2_000, 'noticing the outage');
      await ctx.db.query(`UPDATE products SET price = '21.00' WHERE id = $1`, [id]);
      await catalog().invalidateProducts([id]);
      const started = Date.now();
      for (let i = 0; i < 20; i += 1) {
        const res = await get(url);
        assert.equal(res.statusCode, 200);
        assert.equal(res.json().price, '21.00');
      }
      assert.ok(Date.now() - started < 2_000, 'no request waited on Redis');
      assert.ok(t.app.responseCache.stats.bypasses >= 20);

      await redis.start();
      await until(async () => t.app.responseCache.status() === 'up', 5_000, 'reconnecting');
      assert.equal((await get(url)).json().price, '21.00');
      const queries = ctx.db.stats.queries;
      for (let i = 0; i < 10; i += 1) assert.equal((await get(url)).statusCode, 200);
      assert.equal(ctx.db.stats.queries, queries, 'cached again');
    });

    it('does not serve an entry whose invalidation was lost while Redis was down, once it is back', async () => {
      const id = await insertProduct(ctx.db, { name: 'Drill', price: '50.00', categoryId });
      const url = `/api/products/${id}/`;
      assert.equal((await get(url)).json().price, '50.00');
      await sleep(50); // the Redis write is fire-and-forget

      // Redis comes back with its data (entries and generations from before the outage).
      await redis.stopKeepingData();
      await until(async () => t.app.responseCache.status() === 'down', 2_000, 'noticing the outage');
      await ctx.db.query(`UPDATE products SET price = '55.00' WHERE id = $1`, [id]);
      const missed = t.app.responseCache.stats.missedInvalidations;
      await catalog().invalidateProducts([id]);
      assert.equal(t.app.responseCache.stats.missedInvalidations, missed + 1);
      assert.equal((await get(url)).json().price, '55.00');

      await redis.start();
      await until(async () => t.app.responseCache.status() === 'up', 5_000, 'recovering');
      assert.equal((await get(url)).json().price, '55.00', 'the entry from before the outage is unreachable');
    });

    it('answers without waiting on a Redis that hangs', async () => {
      const id = await insertProduct(ctx.db, { name: 'Level', categoryId });
      redis.pause();
      try {
        await sleep(600); // past the generations' local lifetime: the next read must ask Redis
        const started = Date.now();
        const res = await get(`/api/products/${id}/`);
        assert.equal(res.statusCode, 200);
        assert.ok(Date.now() - started < 1_000, `answered in ${Date.now() - started} ms`);
      } finally {
        redis.resume();
      }
    });
  });
});
