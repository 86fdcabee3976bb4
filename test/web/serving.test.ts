import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { WEB_DIST } from '../../src/platform/http/web.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';

// The app is built by `npm install` (prepare) and `npm run build`; a missing build is a failure, not a skip.
forEachEngine('web app serving', (ctx) => {
  let t: TestApp;
  let script: string;

  before(async () => {
    assert.ok(existsSync(`${WEB_DIST}index.html`), 'web/dist is missing: run npm run build');
    script = readdirSync(`${WEB_DIST}assets`).find((name) => /^index-.*\.js$/.test(name)) as string;
    t = await buildTestApp(ctx.db);
  });
  after(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers });

  it('serves index.html for the storefront and manager routes, revalidated on every load', async () => {
    const urls = [
      '/',
      '/products/12',
      '/cart',
      '/orders/3',
      '/manage',
      '/manage/products/7',
      '/login?next=/cart',
      '/reset-password?token=abc',
    ];
    for (const url of urls) {
      const res = await get(url, { accept: 'text/html' });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /^text\/html/, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assert.match(res.body, /<div id="app"><\/div>/, url);
    }
  });

  it('serves hashed assets as immutable for a year, compressed when the client accepts it', async () => {
    const plain = await get(`/assets/${script}`);
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(plain.headers['content-type'] as string, /javascript/);
    const brotli = await get(`/assets/${script}`, { 'accept-encoding': 'br, gzip' });
    assert.equal(brotli.headers['content-encoding'], 'br');
    assert.ok(brotli.rawPayload.length < plain.rawPayload.length / 2);
    assert.match(brotli.headers.vary as string, /accept-encoding/i);
  });

  it('keeps unknown API paths, missing assets and unknown pages as problem+json 404s', async () => {
    const cases = [
      ['GET', '/api/nope'],
      ['GET', '/api/products/1/nothing-here/'],
      ['POST', '/api/nope'],
      ['GET', '/assets/missing-0000.js'],
      ['GET', '/manage-not-a-route'],
    ] as const;
    for (const [method, url] of cases) {
      const res = await t.app.inject({ method, url, headers: { accept: 'text/html' } });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/, url);
    }
  });

  it('leaves the API answering JSON next to the app', async () => {
    const res = await get('/api/categories/');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /application\/json/);
  });
});
