import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpRequestDuration } from '../../src/platform/observability/metrics.js';
import { startMetricsServer } from '../../src/platform/observability/metrics-server.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';
import { findBinary, type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';

const promtool = findBinary('promtool');
const prometheus = findBinary('prometheus');
const DEPLOY = new URL('../../deploy/prometheus/', import.meta.url).pathname;

function runPromtool(...args: string[]) {
  const result = spawnSync(promtool as string, args, { cwd: DEPLOY, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('prometheus configuration', { skip: !promtool && 'promtool is not installed' }, () => {
  it('passes promtool check config, with its alert rules', () => {
    const result = runPromtool('check', 'config', 'prometheus.yml');
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: \d+ rules found/);
  });

  it('passes promtool check rules', () => {
    const result = runPromtool('check', 'rules', 'alerts.yml');
    assert.equal(result.code, 0, result.output);
  });

  it('fires each alert on the series it is meant for, and only then (promtool test rules)', () => {
    const result = runPromtool('test', 'rules', 'alerts.test.yml');
    assert.equal(result.code, 0, result.output);
  });
});

/** Requests counted so far in this process for one label set (the registry outlives each test app). */
async function requestsCounted(labels: Record<string, string>): Promise<number> {
  const { values } = await httpRequestDuration.get();
  return values
    .filter(
      (sample) =>
        sample.metricName === 'bazaar_http_request_duration_seconds_count' &&
        Object.entries(labels).every(
          ([key, value]) => String((sample.labels as Record<string, unknown>)[key]) === value,
        ),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

forEachEngine('a real Prometheus scraping Bazaar', (ctx) => {
  let t: TestApp;
  let prom: RunningPrometheus;
  let closeWorkerMetrics: () => Promise<void>;
  let productId: number;
  const skip = !prometheus && 'prometheus is not installed';

  before(async () => {
    if (skip) return;
    productId = await insertProduct(ctx.db, { categoryId: await insertCategory(ctx.db, 'Scraped') });
    await ctx.db.query(
      `INSERT INTO outbox_jobs (type, payload, status, run_at)
       VALUES ('mail.send', '{}', 'pending', now() - interval '90 seconds'),
              ('mail.send', '{}', 'running', now()),
              ('mail.send', '{}', 'pending', now() + interval '1 hour'),
              ('payment.capture', '{}', 'dead', now() - interval '2 hours'),
              ('mail.send', '{}', 'done', now() - interval '3 hours')`,
    );
    t = await buildTestApp(ctx.db);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const apiPort = (t.app.server.address() as AddressInfo).port;
    const workerMetrics = await startMetricsServer(0, '127.0.0.1');
    closeWorkerMetrics = workerMetrics.close;
    prom = await startPrometheus([
      { job: 'bazaar-api', target: `127.0.0.1:${apiPort}` },
      { job: 'bazaar-worker', target: `127.0.0.1:${workerMetrics.port}` },
    ]);
  });
  after(async () => {
    await prom?.stop();
    await closeWorkerMetrics?.();
    await t?.close();
  });

  it('counts a known number of requests by route template and status', { skip }, async () => {
    const route = '/api/products/:id/';
    const before200 = await requestsCounted({ route, status: '200' });
    const before404 = await requestsCounted({ route, status: '404' });
    const beforeUnmatched = await requestsCounted({ route: 'unmatched' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await fetch(`${base}/api/products/${productId}/`)).status);
    for (let i = 0; i < 3; i += 1)
      statuses.push((await fetch(`${base}/api/products/${9_000_000 + i}/`)).status);
    for (let i = 0; i < 2; i += 1) statuses.push((await fetch(`${base}/api/no-such-thing/${i}`)).status);
    assert.deepEqual(statuses, [...Array(7).fill(200), ...Array(10 - 7).fill(404), 404, 404]);

    const count = (labels: string) =>
      `sum(bazaar_http_request_duration_seconds_count{job="bazaar-api",${labels}})`;
    assert.equal(
      await prom.waitForValue(count(`route="${route}",status="200"`), (v) => v === before200 + 7),
      before200 + 7,
    );
    assert.equal(
      await prom.waitForValue(count(`route="${route}",status="404"`), (v) => v === before404 + 3),
      before404 + 3,
    );
    assert.equal(
      await prom.waitForValue(count('route="unmatched"'), (v) => v === beforeUnmatched + 2),
      beforeUnmatched + 2,
    );
    const rawUrls = await prom.query('count(bazaar_http_request_duration_seconds_count{route=~".*[0-9].*"})');
    assert.deepEqual(rawUrls.data?.result, [], 'a raw URL became a label value');
  });

  it('reads the outbox backlog, its most overdue job and the dead jobs at scrape time', {
    skip,
  }, async () => {
    assert.equal(await prom.waitForValue('bazaar_outbox_backlog{job="bazaar-api"}', (v) => v === 3), 3);
    assert.equal(await prom.waitForValue('bazaar_outbox_dead_jobs{job="bazaar-api"}', (v) => v === 1), 1);
    const age = await prom.waitForValue('bazaar_outbox_oldest_age_seconds{job="bazaar-api"}', (v) => v > 0);
    assert.ok(age >= 90 && age < 600, `most overdue outbox job waited ${age} s`);
  });

  it('times database statements by pool and reports process metrics', { skip }, async () => {
    // Signed-in reads skip the response cache, so each of these reaches the reader pool.
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const headers = { authorization: `Bearer ${t.tokenFor({ id: 1, role: 'customer' })}` };
    for (let i = 0; i < 10; i += 1) {
      assert.equal((await fetch(`${base}/api/products/${productId}/`, { headers })).status, 200);
    }
    const reads = await prom.waitForValue(
      'sum(bazaar_db_query_duration_seconds_count{job="bazaar-api",pool="reader"})',
      (v) => v >= 10,
    );
    assert.ok(reads >= 10);
    await prom.waitForValue('nodejs_heap_size_used_bytes{job="bazaar-api"}', (v) => v > 0);
    await prom.waitForValue('nodejs_eventloop_lag_p99_seconds{job="bazaar-api"}', (v) => v >= 0);
    if (ctx.engine === 'postgres') {
      // The test database opens its pool with 20 connections (test/helpers/engines.ts).
      await prom.waitForValue(
        'bazaar_db_pool_connections{job="bazaar-api",pool="primary",state="max"}',
        (v) => v === 20,
      );
    }
  });

  it('scrapes a worker-style process through its bare metrics endpoint', { skip }, async () => {
    assert.equal(await prom.waitForValue('up{job="bazaar-worker"}', (v) => v === 1), 1);
    await prom.waitForValue('bazaar_processes{job="bazaar-worker"}', (v) => v === 1);
  });
});
