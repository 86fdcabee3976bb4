import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon, { type Options } from 'autocannon';
import { createAccessTokens } from '../src/platform/http/auth.js';
import { benchDatabase, outboxBacklog } from './dataset.js';
import { createShopperMix, type MixTally, undesignedCount } from './mix.js';
import { pacedLoad } from './paced.js';
import { rssMb, startApi, startCeiling, startNginx, startRedis, stopProcess, watchRss } from './processes.js';
import { printTable, type ScenarioResult, writeResults } from './report.js';
import { runSoak } from './soak.js';

/**
 * `bazaar bench [SCENARIO]`: PostgreSQL with BENCH_PRODUCTS (1,000,000) products, a Redis of its own, the API
 * built in dist/, then each scenario with autocannon after a warm-up. Settings: BENCH_DURATION (s, 10),
 * BENCH_CONNECTIONS (20), BENCH_WARMUP (s, 3), BENCH_PACED_WARMUP (s, 8: before a steady-rate run),
 * BENCH_DATABASE_URL (reuse a database), BENCH_REDIS_URL,
 * BENCH_LOG_LEVEL (info, as in production). Writes bench/results/bench-<time>.json and .svg.
 *
 * `bazaar bench soak` runs only the soak (never part of the default run): the mix for BENCH_SOAK_SECONDS (600)
 * against one API process, RSS sampled every BENCH_SOAK_SAMPLE_SECONDS (5), the first BENCH_SOAK_WARMUP (60)
 * seconds as warm-up (bench/soak.ts).
 */

const SCENARIOS = [
  'ceiling',
  'cached-detail',
  'hot-path',
  'cached-list',
  'uncached-detail',
  'uncached-list',
  'mix',
  'mix-nginx',
  'soak',
] as const;
/** Run only when asked by name: ten minutes is too long for every run. */
const ON_REQUEST_ONLY = ['soak'];
const only = process.argv[2];
if (only !== undefined && !SCENARIOS.includes(only as (typeof SCENARIOS)[number])) {
  process.stderr.write(`unknown scenario "${only}"; one of ${SCENARIOS.join(', ')}\n`);
  process.exit(2);
}
const wanted = (name: string) => (only === undefined ? !ON_REQUEST_ONLY.includes(name) : only === name);

const products = Number(process.env.BENCH_PRODUCTS ?? 1_000_000);
const duration = Number(process.env.BENCH_DURATION ?? 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const pacedWarmup = Number(process.env.BENCH_PACED_WARMUP ?? 8);
const pacedConnections = Number(process.env.BENCH_PACED_CONNECTIONS ?? 100);
const steadyFractions = (process.env.BENCH_STEADY_FRACTIONS ?? '0.8').split(',').map(Number);
if (steadyFractions.some((fraction) => !(fraction > 0 && fraction <= 1))) {
  process.stderr.write('BENCH_STEADY_FRACTIONS: fractions of the peak, each above 0 and at most 1\n');
  process.exit(2);
}
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const soakWarmup = Number(process.env.BENCH_SOAK_WARMUP ?? 60);
const soakSample = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 5);
const random = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]): T => items[random(items.length)] as T;

const results: ScenarioResult[] = [];
const cleanups: (() => Promise<void>)[] = [];

function summary(run: autocannon.Result) {
  const statuses: Record<string, number> = {};
  for (const [status, stats] of Object.entries(run.statusCodeStats ?? {}))
    statuses[status] = stats.count ?? 0;
  return {
    rps: run.requests.average,
    p50: run.latency.p50,
    p99: run.latency.p99,
    errors: run.errors + run.timeouts,
    non2xx: run.non2xx,
    undesigned: run.non2xx,
    statuses,
  };
}

const pairedRounds = Number(process.env.BENCH_PAIRED_ROUNDS ?? 9);
const pairedSliceSeconds = Number(process.env.BENCH_PAIRED_SLICE ?? 1.5);

interface PairedCount {
  requests: number;
  /** Requests answered in each round's slice. */
  perRound: number[];
  /** Socket errors, timeouts and non-2xx answers. */
  faults: number;
}

/**
 * The ratios to the ceiling again, from alternating slices: this machine's speed drifts by tens of percent over
 * a minute, so a ratio of two scenarios measured one after the other also measures the drift. Each of
 * BENCH_PAIRED_ROUNDS rounds loads every target for BENCH_PAIRED_SLICE seconds in turn, the order rotated by one
 * every round so that each target takes each place equally often and a steady drift favours none; the ratio is
 * of the requests each answered in the same rounds.
 *
 * Rotated, not reversed, and slices shorter than 2 s: the API collects its heap once it has had no request for
 * one of idle-gc.ts's 2-s checks, and a reversed order put two ceiling slices back to back: the API's full
 * collection then ran during the ceiling's slice, on the same two cores, and lowered the ceiling.
 */
async function pairedSlices(targets: { name: string; url: string }[]): Promise<Map<string, PairedCount>> {
  process.stderr.write(
    `paired slices: ${pairedRounds} rounds of ${pairedSliceSeconds} s for each of ${targets.map((t) => t.name).join(', ')}...\n`,
  );
  const counts = new Map<string, PairedCount>(
    targets.map((target) => [target.name, { requests: 0, perRound: [], faults: 0 }]),
  );
  for (let round = 0; round < pairedRounds; round += 1) {
    const shift = round % targets.length;
    for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
      const run = await autocannon({ connections, url: target.url, duration: pairedSliceSeconds });
      const count = counts.get(target.name) as PairedCount;
      count.requests += run.requests.total;
      count.perRound.push(run.requests.total);
      count.faults += run.errors + run.timeouts + run.non2xx;
    }
  }
  return counts;
}

/**
 * A warm-up, then the measured run. With `tally` (the mix), the answers are counted by action, and only those
 * outside the designed ones are undesigned; otherwise every non-2xx is.
 */
async function measure(
  name: string,
  title: string,
  options: Options,
  pids: (number | undefined)[],
  note?: string,
  tally?: () => MixTally,
): Promise<ScenarioResult> {
  process.stderr.write(`${title}: warm-up ${warmup} s, then ${duration} s...\n`);
  await autocannon({ connections, ...options, duration: warmup });
  const mix = tally?.();
  const stopWatching = watchRss(pids);
  const run = await autocannon({ connections, ...options, duration });
  const result: ScenarioResult = {
    name,
    title,
    ...summary(run),
    peakRssMb: stopWatching(),
    ...(note ? { note } : {}),
    ...(mix ? { mix, undesigned: undesignedCount(mix) } : {}),
  };
  results.push(result);
  return result;
}

/**
 * Steady loads at fractions of `peak` (bench/paced.ts; autocannon's overallRate bursts at full speed), each
 * BENCH_DURATION seconds, after one warm-up at the first. The warm-up is longer than autocannon's: the load
 * generator's own code starts cold, and its first seconds at such a rate fell behind (p99 of 100-370 ms against
 * 3-7 ms once warm, on a bare server). BENCH_STEADY_FRACTIONS (0.8, the target's) may list several, e.g.
 * 0.4,0.6,0.8, to see where the tail starts.
 */
async function measureSteady(
  name: string,
  title: string,
  url: string,
  peak: number,
  pids: (number | undefined)[],
): Promise<void> {
  for (const [index, fraction] of steadyFractions.entries()) {
    const rate = Math.round(peak * fraction);
    const percent = Math.round(fraction * 100);
    const heading = `${title} at ${rate} req/s`;
    process.stderr.write(
      `${heading}: ${index === 0 ? `warm-up ${pacedWarmup} s, then ` : ''}${duration} s...\n`,
    );
    if (index === 0) await pacedLoad({ url, rate, seconds: pacedWarmup, connections: pacedConnections });
    const stopWatching = watchRss(pids);
    const run = await pacedLoad({ url, rate, seconds: duration, connections: pacedConnections });
    results.push({
      name: `${name}-${percent}`,
      title: heading,
      ...run,
      p50: Math.round(run.p50 * 100) / 100,
      p99: Math.round(run.p99 * 100) / 100,
      undesigned: run.non2xx,
      peakRssMb: stopWatching(),
      note: `${percent}% of its peak rate, steady (bench/paced.ts)`,
    });
  }
}

async function main() {
  const loadAtStart = loadavg();
  const data = await benchDatabase(products, 1_000);
  cleanups.push(data.drop);
  const redis = process.env.BENCH_REDIS_URL ? { url: process.env.BENCH_REDIS_URL } : await startRedis();
  if ('child' in redis) cleanups.push(() => stopProcess(redis.child));
  const jwtSecret = randomBytes(32).toString('hex');
  // The mix's checkouts mail their confirmations as .eml files: keep them out of the repository's ./data.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bazaar-bench-data-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const env = {
    DATA_DIR: dataDir,
    DATABASE_URL: data.url,
    REDIS_URL: redis.url,
    JWT_SECRET: jwtSecret,
    RATE_LIMIT_FACTOR: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  const api = await startApi(env);
  cleanups.push(() => stopProcess(api.child));
  const apiPid = [api.child.pid];

  const hot = `/api/products/${data.ids.hot}/`;
  const detailUrl = `${api.url}${hot}`;
  const listUrl = `${api.url}/api/products/?limit=20`;
  // The third read of the URL is the cached answer every measured request gets (the first fills the cache and
  // hands the URL to the front door, which answers the reads after it): the ceiling's bytes.
  let detail = await fetch(detailUrl);
  for (let read = 1; read < 3; read += 1) {
    await detail.arrayBuffer();
    detail = await fetch(detailUrl);
  }
  const categories = (
    (await (await fetch(`${api.url}/api/categories/`)).json()) as { items: { id: number }[] }
  ).items;
  const categoryIds = categories.map((category) => category.id);

  // Kept running (idle, it costs nothing meanwhile) until the paired slices below.
  let ceiling: { child: ChildProcess; url: string } | undefined;
  if (wanted('ceiling')) {
    const started = await startCeiling(detail);
    cleanups.push(() => stopProcess(started.child));
    ceiling = { child: started.child, url: `${started.url}${hot}` };
    const peak = await measure('ceiling', '1 ceiling (bare node:http)', { url: ceiling.url }, [
      started.child.pid,
    ]);
    // The same steady load on the bare server: the tail this machine gives to any server at that rate.
    await measureSteady('ceiling', '1b ceiling', ceiling.url, peak.rps, [started.child.pid]);
  }
  if (wanted('cached-detail')) {
    const peak = await measure('cached-detail', '2 cached product detail', { url: detailUrl }, apiPid);
    await measureSteady('cached-detail', '2b cached detail', detailUrl, peak.rps, apiPid);
  }
  if (wanted('hot-path')) {
    // What each per-request layer costs on a cached GET: the log line, the rate limiter; and what a signed-in
    // reader costs, whose reads skip the response cache (read-your-writes across instances, docs/caching.md).
    const token = createAccessTokens(jwtSecret).sign({ id: data.shopperIds[0] ?? 1, role: 'customer' });
    await measure(
      'hot-path-auth',
      '2c detail, signed in (uncached)',
      { url: detailUrl, headers: { authorization: `Bearer ${token}` } },
      apiPid,
      'token verified; read from PostgreSQL: signed-in reads skip the cache',
    );
    const quiet = await startApi({ ...env, LOG_LEVEL: 'silent' });
    await measure('hot-path-silent', '2d cached detail, no log line', { url: `${quiet.url}${hot}` }, [
      quiet.child.pid,
    ]);
    await stopProcess(quiet.child);
    // The global rate limit (in memory, per address) counts every request; x1000 so that none is refused.
    const limited = await startApi({ ...env, RATE_LIMIT_FACTOR: '1000' });
    await measure(
      'hot-path-rate-limit',
      '2e cached detail, rate limit counting',
      { url: `${limited.url}${hot}` },
      [limited.child.pid],
      'RATE_LIMIT_FACTOR=1000: every request counted, none refused',
    );
    await stopProcess(limited.child);
  }
  if (wanted('cached-list')) {
    await measure('cached-list', '3 cached list page', { url: listUrl }, apiPid);
  }
  let paired: Map<string, PairedCount> | undefined;
  if (ceiling && only === undefined) {
    paired = await pairedSlices([
      { name: 'ceiling', url: ceiling.url },
      { name: 'cached-detail', url: detailUrl },
      { name: 'cached-list', url: listUrl },
    ]);
  }
  await stopProcess(ceiling?.child);
  if (wanted('uncached-detail')) {
    const span = data.ids.max - data.ids.min + 1;
    await measure(
      'uncached-detail',
      '4 uncached product detail',
      {
        url: api.url,
        requests: [
          { setupRequest: (req) => ({ ...req, path: `/api/products/${data.ids.min + random(span)}/` }) },
        ],
      },
      apiPid,
      'a random product of all of them each time',
    );
  }
  if (wanted('uncached-list')) {
    await measure(
      'uncached-list',
      '5 uncached filtered list',
      {
        url: api.url,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              path: `/api/products/?category_id=${pick(categoryIds)}&min_price=${random(300)}.${random(100)}&sort=price`,
            }),
          },
        ],
      },
      apiPid,
      'random category and min_price',
    );
  }
  if (wanted('mix') || wanted('mix-nginx') || wanted('soak')) {
    const tokens = createAccessTokens(jwtSecret);
    const mix = createShopperMix({
      signTokens: () => data.shopperIds.map((id) => tokens.sign({ id, role: 'customer' })),
      popularProductIds: data.popularIds,
      categoryIds,
    });
    await mix.emptyCarts(api.url);
    const note = `browse 80%, cart 15%, checkout 5%; ${data.shopperIds.length} shoppers`;
    const options = { url: api.url, requests: mix.requests };
    if (wanted('mix')) {
      const result = await measure('mix', '6 shoppers mix', options, apiPid, note, mix.startTally);
      result.outbox = await outboxBacklog(data.url);
    }
    if (wanted('mix-nginx')) {
      const second = await startApi(env);
      cleanups.push(() => stopProcess(second.child));
      const nginx = await startNginx([api.url, second.url]);
      cleanups.push(() => stopProcess(nginx.child));
      const result = await measure(
        'mix-nginx',
        '7 mix via nginx, 2 instances',
        { ...options, url: nginx.url },
        [api.child.pid, second.child.pid],
        `${note}; RSS is the larger API process`,
        mix.startTally,
      );
      result.outbox = await outboxBacklog(data.url);
    }
    if (wanted('soak')) {
      process.stderr.write(
        `soak: the mix for ${soakSeconds} s (warm-up ${soakWarmup} s), RSS every ${soakSample} s...\n`,
      );
      const soak = await runSoak({
        url: api.url,
        pid: api.child.pid,
        databaseUrl: data.url,
        connections,
        mix,
        seconds: soakSeconds,
        warmupSeconds: soakWarmup,
        sampleSeconds: soakSample,
      });
      results.push({
        name: 'soak',
        title: `8 soak: mix for ${soakSeconds} s`,
        ...summary(soak.result),
        undesigned: undesignedCount(soak.answers),
        peakRssMb: soak.report.maxRssMb,
        note,
        mix: soak.answers,
        outbox: await outboxBacklog(data.url),
        soak: soak.report,
      });
    }
  }

  // Right after the last scenario, and once the process has been idle long enough to give the heap's slack
  // back (src/platform/observability/idle-gc.ts collects after 2 to 4 s without a request).
  const rssRightAfter = Math.round(rssMb(api.child.pid));
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const rssSettled = Math.round(rssMb(api.child.pid));
  const by = (name: string) => results.find((r) => r.name === name);
  const ratio = (a?: ScenarioResult, b?: ScenarioResult) =>
    a && b ? `${Math.round((100 * a.rps) / b.rps)}%` : 'not measured';
  const pairedRatio = (name: string) => {
    const a = paired?.get(name);
    const b = paired?.get('ceiling');
    if (!a || !b) return '';
    const rounds = a.perRound.map((requests, round) => (100 * requests) / (b.perRound[round] as number));
    const median = [...rounds].sort((x, y) => x - y)[Math.floor(rounds.length / 2)] as number;
    return `; in paired slices ${Math.round((100 * a.requests) / b.requests)}% (median round ${Math.round(median)}%; rounds ${rounds.map((r) => Math.round(r)).join(' ')})`;
  };
  const pairedFaults = [...(paired?.values() ?? [])].reduce((sum, count) => sum + count.faults, 0);
  const checks = [
    `cached detail / ceiling: ${ratio(by('cached-detail'), by('ceiling'))}${pairedRatio('cached-detail')} (target >= 70%)`,
    `cached list / ceiling:   ${ratio(by('cached-list'), by('ceiling'))}${pairedRatio('cached-list')} (target >= 60%)`,
    `p99 of cached detail at 80% of its peak, steady: ${by('cached-detail-80')?.p99 ?? '-'} ms (target < 5 ms); the bare ceiling at 80% of its own: ${by('ceiling-80')?.p99 ?? '-'} ms`,
    `errors (socket errors and timeouts): ${results.reduce((sum, r) => sum + r.errors, 0)} (target 0)${paired ? `; in the paired slices, errors and non-2xx: ${pairedFaults}` : ''}`,
    `undesigned answers (non-2xx other than the designed ones): ${results.reduce((sum, r) => sum + r.undesigned, 0)} (target 0)`,
    `peak API RSS: ${Math.max(0, ...results.filter((r) => !r.name.startsWith('ceiling')).map((r) => r.peakRssMb))} MB`,
    `API RSS after the run: ${rssSettled} MB with ${products.toLocaleString('en')} products, 6 s after the last request (target < 250 MB); ${rssRightAfter} MB at the last request`,
  ];
  const soak = by('soak')?.soak;
  if (soak) {
    checks.push(
      `RSS growth over the soak after ${soak.warmupSeconds} s of warm-up: ${soak.growthPct}% (target < 10%: ${soak.pass ? 'pass' : 'FAIL'})`,
    );
  }
  printTable(results, checks);
  const base = writeResults(results, {
    date: new Date().toISOString(),
    products,
    connections,
    duration,
    warmup,
    ...(wanted('soak') ? { soakSeconds, soakWarmup, soakSample } : {}),
    loadAverage: { start: loadAtStart, end: loadavg() },
    logLevel: env.LOG_LEVEL,
    ...(paired ? { paired: Object.fromEntries(paired), pairedRounds, pairedSliceSeconds } : {}),
    checks,
  });
  process.stdout.write(`\nwrote ${base}.json and ${base}.svg\n`);
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}
