import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine, openTestDatabase } from '../helpers/engines.js';

forEachEngine('http platform', (ctx) => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp(ctx.db, {
      extend: (app) => {
        app.post(
          '/test/echo/',
          {
            schema: {
              body: Type.Object({ name: Type.String() }, { additionalProperties: false }),
            },
          },
          async (request) => request.body,
        );
      },
    });
  });
  after(() => t.close());

  it('says it is alive on /healthz', async () => {
    const res = await t.app.inject('/healthz');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('reports the database on /readyz', async () => {
    const res = await t.app.inject('/readyz');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok', checks: { database: 'ok' } });
  });

  it('publishes an OpenAPI document built from the route schemas, and a reference page', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/products/']);
    assert.ok(doc.paths['/api/products/{id}/']);
    assert.ok(doc.paths['/api/categories/']);
    const page = await t.app.inject('/docs/');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html/i);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await t.app.inject('/api/unknown/');
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  });

  it('answers bad bodies with 400, 413 and 415 problems', async () => {
    const post = (payload: string, type = 'application/json') =>
      t.app.inject({ method: 'POST', url: '/test/echo/', headers: { 'content-type': type }, payload });
    assert.equal((await post('{')).statusCode, 400);
    assert.equal((await post('{"name":"x","extra":1}')).statusCode, 400);
    assert.equal((await post('{"name":5}')).statusCode, 400);
    assert.equal((await post('name=x', 'application/x-www-form-urlencoded')).statusCode, 415);
    assert.equal((await post(JSON.stringify({ name: 'x'.repeat(1024 * 1024) }))).statusCode, 413);
    const ok = await post('{"name":"x"}');
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { name: 'x' });
  });
});

forEachEngine('http platform failures', (ctx) => {
  it('hides the details of a 500 from the client and logs them with the request id', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const t = await buildTestApp(ctx.db, {
      logger,
      extend: (app) => {
        app.get('/test/boom/', async () => {
          throw new Error('secret internals');
        });
      },
    });
    try {
      const res = await t.app.inject({ url: '/test/boom/', headers: { 'x-request-id': 'req-500' } });
      assert.equal(res.statusCode, 500);
      assert.doesNotMatch(res.body, /secret internals/);
      assert.equal(res.json().request_id, 'req-500');
      const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.err);
      assert.equal(logged.reqId, 'req-500');
      assert.match(logged.err.message, /secret internals/);
    } finally {
      await t.close();
    }
  });

  it('answers /readyz with 503 and the reason when the database is gone', async () => {
    const handle = await openTestDatabase(ctx.engine);
    const t = await buildTestApp(handle.db);
    try {
      await handle.db.close();
      const res = await t.app.inject('/readyz');
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().status, 'unavailable');
      assert.notEqual(res.json().checks.database, 'ok');
    } finally {
      await t.close();
      await handle.drop().catch(() => {});
    }
  });
});
