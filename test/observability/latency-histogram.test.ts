import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { LatencyHistogram } from '../../src/platform/observability/metrics.js';

const BOUNDS = [0.001, 0.005, 0.025, 0.1, 1];
const LABELS = ['method', 'route', 'status'];
/** Durations on, between and beyond the bounds. */
const DURATIONS = [0.0005, 0.001, 0.003, 0.005, 0.02, 0.1, 0.5, 2, 7];

/** The same observations in prom-client's Histogram and in Bazaar's, each in a registry of its own. */
function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({
    name: 'd',
    help: 'h',
    labelNames: LABELS,
    buckets: BOUNDS,
    registers: [theirs],
  });
  const histogram = new LatencyHistogram('d', 'h', LABELS, BOUNDS, ours);
  const observe = (values: string[], seconds: number) => {
    reference.labels(...values).observe(seconds);
    histogram.series(...values).observe(seconds);
  };
  return { theirs, ours, histogram, observe };
}

describe('the request latency histogram', () => {
  it("writes the same exposition text as prom-client's Histogram", async () => {
    const { theirs, ours, observe } = pair();
    for (const [index, seconds] of DURATIONS.entries()) {
      observe(['GET', '/api/products/:id/', index % 3 === 0 ? '304' : '200'], seconds);
      observe(['POST', '/api/orders/', '201'], seconds * 2);
    }
    const text = await ours.metrics();
    assert.equal(text, await theirs.metrics());
    assert.match(text, /d_bucket\{le="0.005",method="GET",route="\/api\/products\/:id\/",status="200"\} 2\n/);
    assert.match(text, /d_count\{method="POST",route="\/api\/orders\/",status="201"\} 9\n/);
  });

  it('adds up the workers of a cluster as prom-client does', async () => {
    const a = pair();
    const b = pair();
    for (const seconds of DURATIONS) a.observe(['GET', '/healthz', '200'], seconds);
    for (const seconds of DURATIONS.slice(3)) b.observe(['GET', '/healthz', '200'], seconds);
    const theirs = AggregatorRegistry.aggregate([
      await a.theirs.getMetricsAsJSON(),
      await b.theirs.getMetricsAsJSON(),
    ]);
    const ours = AggregatorRegistry.aggregate([
      await a.ours.getMetricsAsJSON(),
      await b.ours.getMetricsAsJSON(),
    ]);
    assert.equal(await ours.metrics(), await theirs.metrics());
    assert.match(await ours.metrics(), /d_count\{method="GET",route="\/healthz",status="200"\} 15\n/);
  });

  it('zeroes its series in place on reset, so a series held by the front door goes on counting', async () => {
    const { ours, histogram } = pair();
    const held = histogram.series('GET', '/api/products/:id/', '200');
    held.observe(0.002);
    ours.resetMetrics();
    assert.match(
      await ours.metrics(),
      /d_count\{method="GET",route="\/api\/products\/:id\/",status="200"\} 0\n/,
    );
    held.observe(0.002);
    assert.match(
      await ours.metrics(),
      /d_count\{method="GET",route="\/api\/products\/:id\/",status="200"\} 1\n/,
    );
    assert.throws(() => histogram.series('GET'), /takes 3 label values/);
  });
});
