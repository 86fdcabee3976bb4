import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { observeDatabase, type PoolName } from '../../src/platform/db/index.js';
import {
  addRevenue,
  databaseObserver,
  dbQueryDuration,
  dbQueryErrors,
  httpRequestsInFlight,
  registry,
  revenueCents,
} from '../../src/platform/observability/metrics.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';

async function sampleSum(
  metric: {
    get():
      | { values: { value: number; labels: object; metricName?: string }[] }
      | Promise<{ values: { value: number; labels: object; metricName?: string }[] }>;
  },
  match: (labels: Record<string, unknown>, name?: string) => boolean = () => true,
) {
  const { values } = await metric.get();
  return values
    .filter((v) => match(v.labels as Record<string, unknown>, v.metricName))
    .reduce((sum, v) => sum + v.value, 0);
}

forEachEngine('metrics', (ctx) => {
  let t: TestApp;
  let releaseSlow: () => void = () => {};
  let slowStarted: () => void = () => {};

  before(async () => {
    t = await buildTestApp(ctx.db, {
      extend: (app) => {
        app.get('/test/slow/', async () => {
          slowStarted();
          await new Promise<void>((resolve) => {
            releaseSlow = resolve;
          });
          return { done: true };
        });
      },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => t.close());

  it('serves every named metric on /metrics in Prometheus text', async () => {
    const res = await t.app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    for (const name of [
      'bazaar_http_request_duration_seconds',
      'bazaar_http_requests_in_flight',
      'bazaar_db_query_duration_seconds',
      'bazaar_db_pool_connections',
      'bazaar_db_replica_lag_seconds',
      'bazaar_cache_requests_total',
      'bazaar_outbox_backlog',
      'bazaar_outbox_oldest_age_seconds',
      'bazaar_outbox_dead_jobs',
      'bazaar_jobs_total',
      'bazaar_job_duration_seconds',
      'bazaar_broker_connected',
      'bazaar_broker_dead_letter_messages',
      'bazaar_orders_placed_total',
      'bazaar_revenue_cents_total',
      'bazaar_payment_failures_total',
      'bazaar_registrations_total',
      'bazaar_login_failures_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
    ]) {
      assert.match(res.body, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
  });

  it('counts a request in flight until it is answered, and until its client hangs up', async () => {
    const port = (t.app.server.address() as AddressInfo).port;
    const idle = await sampleSum(httpRequestsInFlight);
    const started = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    const request = http.get({ host: '127.0.0.1', port, path: '/test/slow/', agent: false });
    request.on('error', () => {});
    await started;
    assert.equal(await sampleSum(httpRequestsInFlight), idle + 1);
    const closed = new Promise((resolve) => request.on('close', resolve));
    request.destroy();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await sampleSum(httpRequestsInFlight), idle, 'an abandoned request still counts');
    releaseSlow();
  });

  it('times every statement by pool and counts the failed ones', async () => {
    const isCount = (_labels: Record<string, unknown>, name?: string) => name?.endsWith('_count') === true;
    const reads = await sampleSum(
      dbQueryDuration,
      (labels, name) => isCount(labels, name) && labels.pool === 'reader',
    );
    const writes = await sampleSum(
      dbQueryDuration,
      (labels, name) => isCount(labels, name) && labels.pool === 'primary',
    );
    const failures = await sampleSum(dbQueryErrors, (labels) => labels.pool === 'primary');
    assert.equal((await t.app.inject('/api/categories/')).statusCode, 200);
    assert.ok((await sampleSum(dbQueryDuration, (l, n) => isCount(l, n) && l.pool === 'reader')) > reads);
    // /readyz runs SELECT 1 on the primary handle through the same observed database the modules use.
    assert.equal((await t.app.inject('/readyz')).statusCode, 200);
    assert.ok((await sampleSum(dbQueryDuration, (l, n) => isCount(l, n) && l.pool === 'primary')) > writes);
    assert.equal(await sampleSum(dbQueryErrors, (labels) => labels.pool === 'primary'), failures);
  });

  it('tells the observer the pool, the duration and the failure of each statement', async () => {
    const seen: [PoolName, boolean][] = [];
    const db = observeDatabase(ctx.db, (pool, seconds, failed) => {
      assert.ok(seconds >= 0 && seconds < 60);
      seen.push([pool, failed]);
      databaseObserver(pool, seconds, failed);
    });
    const failures = await sampleSum(dbQueryErrors, (labels) => labels.pool === 'primary');
    await db.reader.query('SELECT 1');
    await db.transaction(async (tx) => {
      await tx.query('SELECT 2');
    });
    await assert.rejects(db.query('SELECT * FROM no_such_table'));
    await db.withLock(42, (session) => session.exec('SELECT 3'));
    assert.deepEqual(seen, [
      ['reader', false],
      ['primary', false],
      ['primary', true],
      ['primary', false],
    ]);
    assert.equal(await sampleSum(dbQueryErrors, (labels) => labels.pool === 'primary'), failures + 1);
  });
});

it('adds money to the revenue counter as exact cents', async () => {
  const before = await sampleSum(revenueCents);
  addRevenue('19.99');
  addRevenue('0.1');
  addRevenue('1000');
  assert.equal((await sampleSum(revenueCents)) - before, 1999 + 10 + 100_000);
  assert.throws(() => addRevenue('-1.00'));
  assert.throws(() => addRevenue('1.999'));
  assert.match(await registry.metrics(), /^bazaar_revenue_cents_total \d+$/m);
});
