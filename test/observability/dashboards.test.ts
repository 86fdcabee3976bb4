import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { registry } from '../../src/platform/observability/metrics.js';
import { findBinary, type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';

const GRAFANA = new URL('../../deploy/grafana/', import.meta.url).pathname;
const DASHBOARDS = readdirSync(`${GRAFANA}dashboards`).filter((name) => name.endsWith('.json'));

interface Panel {
  id: number;
  title: string;
  datasource: { uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const dashboards = DASHBOARDS.map((file) => ({
  file,
  dashboard: JSON.parse(readFileSync(`${GRAFANA}dashboards/${file}`, 'utf8')) as Dashboard,
}));

/** Grafana's own interval variable, as Grafana would substitute it; any other variable is an error. */
function asPromql(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m');
}

const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords or labels. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(GROUPING, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = bare[(match.index ?? 0) - 1] ?? ' ';
    if (/[0-9.]/.test(before)) continue; // the exponent of a number such as 1e3
    if (
      bare
        .slice((match.index ?? 0) + match[0].length)
        .trimStart()
        .startsWith('(')
    )
      continue;
    if (KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Every series name Bazaar's registry exports, histogram parts included, plus Prometheus's own `up`. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set(['up']);
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    // At run time the type is the string 'histogram'; prom-client's typings declare a numeric enum.
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    }
  }
  return names;
}

describe('grafana dashboards', () => {
  it('are five, with unique uids, unique panel ids and the provisioned datasource', () => {
    assert.deepEqual(DASHBOARDS.sort(), [
      'api-overview.json',
      'business.json',
      'cache.json',
      'database.json',
      'jobs.json',
    ]);
    const datasource = readFileSync(`${GRAFANA}provisioning/datasources/prometheus.yml`, 'utf8');
    const uid = /uid: (\S+)/.exec(datasource)?.[1];
    assert.equal(uid, 'bazaar-prometheus');
    assert.equal(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size, dashboards.length);
    for (const { file, dashboard } of dashboards) {
      assert.ok(dashboard.panels.length >= 4, `${file} has panels`);
      assert.equal(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.panels.length, file);
      for (const panel of dashboard.panels) {
        assert.equal(panel.datasource.uid, uid, `${file}: ${panel.title}`);
        assert.ok(panel.targets.length > 0, `${file}: ${panel.title} has a query`);
        for (const target of panel.targets) assert.equal(target.datasource.uid, uid);
      }
    }
  });

  it('finds the metric names of an expression, and only those', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (route, le) (rate(bazaar_a_bucket{route!="x"}[5m]))) / on(job) up > 1e3',
      ),
      ['bazaar_a_bucket', 'up'],
    );
  });

  it('refer only to metrics Bazaar exports', async () => {
    const exported = await exportedNames();
    for (const { file, dashboard } of dashboards) {
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets) {
          const unknown = metricNames(asPromql(expr)).filter((name) => !exported.has(name));
          assert.deepEqual(unknown, [], `${file}: "${panel.title}" reads ${unknown.join(', ')}`);
        }
      }
    }
  });

  describe('against a real Prometheus', {
    skip: !findBinary('prometheus') && 'prometheus is not installed',
  }, () => {
    let prom: RunningPrometheus;
    before(async () => {
      prom = await startPrometheus([]);
    });
    after(() => prom?.stop());

    it('parse: every panel query is accepted by Prometheus', async () => {
      for (const { file, dashboard } of dashboards) {
        for (const panel of dashboard.panels) {
          for (const { expr } of panel.targets) {
            const promql = asPromql(expr);
            assert.ok(!promql.includes('$'), `${file}: "${panel.title}" uses an unknown variable`);
            const answer = await prom.query(promql);
            assert.equal(answer.status, 'success', `${file}: "${panel.title}": ${answer.error}`);
          }
        }
      }
      assert.equal((await prom.query('sum(rate(x[1m])')).status, 'error', 'a broken query is refused');
    });
  });
});
