import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { redacting } from '../../src/platform/observability/logger.js';
import { bearer, signUp } from '../helpers/accounts.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';

forEachEngine('security layer', (ctx) => {
  describe('headers and CORS', () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(ctx.db, {
        env: { CORS_ORIGINS: 'https://shop.example', RATE_LIMIT_FACTOR: '100' },
        extend: (app) => {
          app.get('/api/test-crash/', () => {
            throw new Error('secret internals at /srv/bazaar/db.ts:42');
          });
        },
      });
    });
    after(() => t.close());

    it('sends security headers on API answers', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/categories/' });
      // JSON answers: nothing in them may load, run or be framed (OWASP REST Security Cheat Sheet).
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
      assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['x-powered-by'], undefined);
      // Pages keep helmet's full set.
      const page = await t.app.inject({ method: 'GET', url: '/docs/' });
      assert.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
      assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
      assert.match(String(page.headers['content-security-policy']), /object-src 'none'/);
      assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    });

    it('serves the API reference at /docs under a policy that allows its own scripts', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/docs/' });
      assert.equal(page.statusCode, 200);
      const csp = String(page.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'/);
      // Every script the page loads comes from this origin, so the policy lets it run.
      const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1] as string);
      assert.ok(scripts.length >= 2);
      assert.ok(scripts.every((src) => src.startsWith('./') || src.startsWith('/')));
      assert.doesNotMatch(page.body, /<script>(?!\s*<\/script>)/);
      for (const src of scripts) {
        const url = new URL(src, 'http://localhost/docs/').pathname;
        assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 200, url);
      }
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    });

    it('answers CORS preflights for the configured origin only', async () => {
      const preflight = (origin: string) =>
        t.app.inject({
          method: 'OPTIONS',
          url: '/api/auth/login/',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const allowed = await preflight('https://shop.example');
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://shop.example');
      assert.match(String(allowed.headers['access-control-allow-methods']), /POST/);
      const refused = await preflight('https://evil.example');
      assert.equal(refused.headers['access-control-allow-origin'], undefined);
      const simple = await t.app.inject({
        method: 'GET',
        url: '/api/categories/',
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(simple.headers['access-control-allow-origin'], undefined);
    });

    it('documents every auth and users route in /openapi.json, with the bearer scheme where a token is needed', async () => {
      const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const expected: Array<[string, string, boolean]> = [
        ['/api/auth/register/', 'post', false],
        ['/api/auth/login/', 'post', false],
        ['/api/auth/refresh/', 'post', false],
        ['/api/auth/logout/', 'post', false],
        ['/api/auth/me/', 'get', true],
        ['/api/auth/me/', 'patch', true],
        ['/api/auth/password/change/', 'post', true],
        ['/api/auth/password/reset/', 'post', false],
        ['/api/auth/password/reset/confirm/', 'post', false],
        ['/api/users/', 'get', true],
        ['/api/users/{id}/', 'get', true],
        ['/api/users/{id}/', 'patch', true],
      ];
      for (const [path, method, secured] of expected) {
        const operation = spec.paths[path]?.[method];
        assert.ok(operation, `${method} ${path} is documented`);
        assert.equal(Boolean(operation.security), secured, `${method} ${path} security`);
      }
    });

    it('answers a crash with a 500 that shows no message or stack', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/test-crash/' });
      assert.equal(res.statusCode, 500);
      assert.doesNotMatch(res.body, /secret internals|db\.ts|at /);
    });
  });

  describe('without CORS_ORIGINS', () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(ctx.db);
    });
    after(() => t.close());

    it('sends no CORS headers at all', async () => {
      const res = await t.app.inject({
        method: 'OPTIONS',
        url: '/api/auth/login/',
        headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    });
  });

  describe('logs', () => {
    let t: TestApp;
    const lines: string[] = [];
    before(async () => {
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      const logger = pino({ level: 'trace', ...redacting }, sink);
      t = await buildTestApp(ctx.db, {
        logger,
        env: { RATE_LIMIT_FACTOR: '100' },
        // A careless handler that logs everything it receives: the redaction must still hold.
        extend: (app) => {
          app.addHook('preHandler', async (request) => {
            request.log.info({ body: request.body, headers: request.headers }, 'received');
          });
        },
      });
    });
    after(() => t.close());

    it('never writes passwords, tokens or the Authorization header', async () => {
      const account = await signUp(t.app, { password: 'Sup3r-Secret-Passw0rd' });
      await t.app.inject({ method: 'GET', url: '/api/auth/me/', headers: bearer(account.access) });
      const pair = (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/refresh/',
          payload: { refresh: account.refresh },
        })
      ).json();
      await t.app.inject({
        method: 'POST',
        url: '/api/auth/password/change/',
        headers: bearer(pair.access),
        payload: { current_password: 'Sup3r-Secret-Passw0rd', new_password: 'An0ther-Secret-Passw0rd' },
      });
      const output = lines.join('');
      assert.match(output, /"received"/, 'the careless handler did log');
      assert.match(output, /\[redacted\]/);
      for (const secret of [
        'Sup3r-Secret-Passw0rd',
        'An0ther-Secret-Passw0rd',
        account.refresh,
        account.access,
        pair.refresh,
        pair.access,
      ]) {
        assert.ok(!output.includes(secret), `a secret reached the log: ${secret.slice(0, 12)}...`);
      }
    });
  });
});
