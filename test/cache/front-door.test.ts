import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { after, before, it } from 'node:test';
import { createCatalogService } from '../../src/modules/catalog/service.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';

/**
 * The front door (src/platform/http/front-door.ts) answers on the HTTP server, before Fastify: these tests
 * speak real HTTP to a listening app (inject() would go round it).
 */

/** Headers that differ between any two answers, whoever gives them. */
const PER_ANSWER = new Set(['x-request-id', 'date', 'x-ratelimit-remaining', 'x-ratelimit-reset']);

function stableHeaders(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!PER_ANSWER.has(name)) headers[name] = value;
  });
  return headers;
}

forEachEngine('front door for cached reads', (ctx) => {
  let t: TestApp;
  let base = '';
  let categoryId = 0;
  const answered = () => t.app.frontDoor.stats.answered;
  const get = (url: string, headers: Record<string, string> = {}) => fetch(`${base}${url}`, { headers });

  before(async () => {
    t = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0' } });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    categoryId = await insertCategory(ctx.db, 'Garden');
  });
  after(() => t.close());

  it('answers the second anonymous read of a URL with what Fastify answered the first', async () => {
    const id = await insertProduct(ctx.db, { name: 'Rake', categoryId });
    const before = answered();
    const first = await get(`/api/products/${id}/`);
    assert.equal(first.status, 200);
    assert.equal(answered(), before, 'the first read is routed by Fastify');
    const second = await get(`/api/products/${id}/`);
    assert.equal(answered(), before + 1, 'the second is answered at the front door');
    assert.equal(second.status, 200);
    assert.deepEqual(stableHeaders(second), stableHeaders(first));
    assert.equal(await second.text(), await first.text());
    assert.match(String(second.headers.get('x-request-id')), /^[0-9a-f-]{36}$/);
    assert.notEqual(second.headers.get('x-request-id'), first.headers.get('x-request-id'));
    assert.equal(
      (await get(`/api/products/${id}/`, { 'x-request-id': 'trace-42' })).headers.get('x-request-id'),
      'trace-42',
    );
    assert.equal(answered(), before + 2);
  });

  it('answers If-None-Match with 304, and never serves a version older than the last announced write', async () => {
    const id = await insertProduct(ctx.db, { name: 'Hose', price: '12.00', categoryId });
    const first = await get(`/api/products/${id}/`);
    const etag = String(first.headers.get('etag'));
    const before = answered();
    const revalidated = await get(`/api/products/${id}/`, { 'if-none-match': etag });
    assert.equal(revalidated.status, 304);
    assert.equal(await revalidated.text(), '');
    assert.equal(answered(), before + 1);

    await ctx.db.query(`UPDATE products SET price = '14.50' WHERE id = $1`, [id]);
    await createCatalogService({ db: ctx.db, cache: t.app.responseCache }).invalidateProducts([id]);
    const fresh = await get(`/api/products/${id}/`, { 'if-none-match': etag });
    assert.equal(fresh.status, 200, 'the old ETag no longer matches');
    assert.equal((await fresh.json()).price, '14.50');
    assert.equal(answered(), before + 1, 'the invalidated entry went back to Fastify');
    assert.equal((await (await get(`/api/products/${id}/`)).json()).price, '14.50');
    assert.equal(answered(), before + 2);
  });

  it('leaves signed-in readers, HEAD, unknown URLs and bad queries to Fastify', async () => {
    const id = await insertProduct(ctx.db, { name: 'Shovel', categoryId });
    await get(`/api/products/${id}/`);
    const before = answered();
    const token = t.tokenFor({ id: 1, role: 'customer' });
    const personal = await get(`/api/products/${id}/`, { authorization: `Bearer ${token}` });
    assert.equal(personal.status, 200);
    assert.equal(personal.headers.get('cache-control'), 'private, no-cache');
    const forged = await get(`/api/products/${id}/`, { authorization: 'Bearer forged' });
    assert.equal(forged.status, 401);
    const head = await fetch(`${base}/api/products/${id}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    for (let round = 0; round < 2; round += 1) {
      assert.equal((await get('/api/products/?limit=0')).status, 400);
      assert.equal((await get('/api/products/987654321/')).status, 404);
    }
    assert.equal(answered(), before);
  });

  it('reads header names in any case, and leaves a header it reads sent twice to Fastify', async () => {
    const id = await insertProduct(ctx.db, { name: 'Trowel', categoryId });
    const etag = String((await get(`/api/products/${id}/`)).headers.get('etag'));
    await get(`/api/products/${id}/`);
    const before = answered();
    /** A GET with the raw header list given, names spelt as given (fetch would lower-case them). */
    const raw = (headers: string[]) =>
      new Promise<{ status: number; requestId: unknown }>((resolve, reject) => {
        const url = new URL(`${base}/api/products/${id}/`);
        const request = http.get(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            headers: ['Host', url.host, ...headers],
            agent: false,
          },
          (response) => {
            response.resume();
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, requestId: response.headers['x-request-id'] }),
            );
          },
        );
        request.on('error', reject);
      });
    assert.deepEqual(await raw(['If-None-Match', etag, 'X-Request-ID', 'Trace-7']), {
      status: 304,
      requestId: 'Trace-7',
    });
    assert.equal(answered(), before + 1);
    assert.equal((await raw(['AUTHORIZATION', 'Bearer forged'])).status, 401);
    const twice = await raw(['X-Request-Id', 'one', 'x-request-id', 'two']);
    assert.equal(twice.status, 200);
    assert.match(String(twice.requestId), /^[0-9a-f-]{36}$/, 'Fastify finds no usable id in "one, two"');
    assert.equal((await raw(['If-None-Match', etag, 'if-none-match', '"other"'])).status, 304);
    assert.equal(answered(), before + 1, 'only the first of these was answered at the front door');
  });

  it('counts its answers in the global rate limit, and Fastify refuses the request over it', async () => {
    // RATE_LIMIT_FACTOR 0.02: 12 API requests per minute per address, on an app of its own.
    const limited = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0.02' } });
    try {
      const url = `${await limited.app.listen({ port: 0, host: '127.0.0.1' })}/api/products/`;
      const first = await fetch(url);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('x-ratelimit-limit'), '12');
      let remaining = Number(first.headers.get('x-ratelimit-remaining'));
      assert.equal(remaining, 11);
      while (remaining > 0) {
        const answer = await fetch(url);
        assert.equal(answer.status, 200);
        assert.equal(Number(answer.headers.get('x-ratelimit-remaining')), remaining - 1);
        remaining -= 1;
      }
      assert.equal(limited.app.frontDoor.stats.answered, 11, 'all but the first answered at the front door');
      const refused = await fetch(url);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.match(String(refused.headers.get('content-type')), /^application\/problem\+json/);
      assert.equal(limited.app.frontDoor.stats.answered, 11);
    } finally {
      await limited.close();
    }
  });

  it('logs its answers with the request line Fastify writes: same keys, level, bindings and route', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logged = await buildTestApp(ctx.db, {
      env: { RATE_LIMIT_FACTOR: '0' },
      logger: createLogger('info', false, destination),
    });
    try {
      const id = await insertProduct(ctx.db, { name: 'Trowel', categoryId });
      const url = `${await logged.app.listen({ port: 0, host: '127.0.0.1' })}/api/products/${id}/`;
      const byFastify = await fetch(url);
      const atDoor = await fetch(url, { headers: { 'x-request-id': 'trace-7.a:b' } });
      assert.equal(atDoor.status, 200);
      assert.equal(atDoor.headers.get('x-request-id'), 'trace-7.a:b');
      assert.equal(logged.app.frontDoor.stats.answered, 1);
      const requestLines = lines.filter((line) => line.msg === 'request');
      const first = requestLines.find((line) => line.reqId === byFastify.headers.get('x-request-id'));
      const second = requestLines.find((line) => line.reqId === 'trace-7.a:b');
      assert.ok(first && second, JSON.stringify(requestLines));
      assert.deepEqual(Object.keys(second).sort(), Object.keys(first).sort());
      for (const key of ['level', 'pid', 'hostname', 'method', 'route', 'status', 'msg']) {
        assert.equal(second[key], first[key], key);
      }
      assert.equal(second.route, '/api/products/:id/');
      assert.equal(typeof second.ms, 'number');
      assert.ok(Math.abs(Number(second.time) - Date.now()) < 60_000);
    } finally {
      await logged.close();
    }
  });

  it('passes a request on to Fastify when the front door fails', async () => {
    const broken = await buildTestApp(ctx.db, { env: { RATE_LIMIT_FACTOR: '0' } });
    try {
      broken.app.installFrontDoor(() => {
        throw new Error('front door fault');
      });
      const url = `${await broken.app.listen({ port: 0, host: '127.0.0.1' })}/api/categories/`;
      for (let i = 0; i < 3; i += 1) {
        const answer = await fetch(url);
        assert.equal(answer.status, 200);
        assert.ok(Array.isArray((await answer.json()).items));
      }
    } finally {
      await broken.close();
    }
  });
});
