import autocannon, { type Request } from 'autocannon';
import pg from 'pg';
import { emptyTally, MIX_ACTIONS, type MixTally, undesignedCount } from './mix.js';
import { rssMb } from './processes.js';

/**
 * The soak: the shoppers mix against one API process for a long time (BENCH_SOAK_SECONDS, 600), its memory
 * sampled every BENCH_SOAK_SAMPLE_SECONDS (5). The first BENCH_SOAK_WARMUP seconds (60) fill caches, pools and
 * JIT; the base is the median RSS of the samples in the window after them, the end the median of the samples
 * in the last window (a minute, or less in a short soak so the two do not overlap): the heap's garbage swings
 * RSS by tens of MB between collections, and one sample must not decide the verdict. Growth of 10% or more
 * from base to end fails; the slope of a least-squares line through the samples after the warm-up (MB per
 * minute) shows a trend the two windows might miss. Each sample also reads the process's heap and the number
 * of series in its /metrics (a label-cardinality leak shows there first) and the outbox backlog; each minute
 * records throughput, p99, socket errors, the lowest heap sample (the floor under the garbage's sawtooth),
 * the backlog and the mix's answers by action and status.
 */

export const SOAK_GROWTH_LIMIT_PCT = 10;
const MAX_WINDOW_S = 60;
/** The shortest soak: a warm-up, then two windows of this many seconds. */
const MIN_WINDOW_S = 15;

export interface SoakSample {
  /** Seconds since the soak started. */
  t: number;
  rssMb: number;
  /** V8's heap in use (live data and garbage not yet collected), the heap V8 holds, and Buffers outside it. */
  heapUsedMb: number | null;
  heapTotalMb: number | null;
  externalMb: number | null;
  metricSeries: number | null;
  outboxNotDone: number | null;
}

export interface SoakMinute {
  /** 1 for the first minute (or the first part of one, for the last). */
  minute: number;
  seconds: number;
  rps: number;
  p99: number;
  errors: number;
  undesigned: number;
  orders: number;
  heapFloorMb: number | null;
  outboxNotDone: number | null;
  answers: MixTally;
}

export interface SoakReport {
  seconds: number;
  warmupSeconds: number;
  sampleSeconds: number;
  baseRssMb: number;
  endRssMb: number;
  maxRssMb: number;
  growthPct: number;
  rssSlopeMbPerMin: number;
  windowSeconds: number;
  /** Medians over the same windows as the RSS. */
  baseHeapUsedMb: number | null;
  endHeapUsedMb: number | null;
  baseMetricSeries: number | null;
  endMetricSeries: number | null;
  pass: boolean;
  samples: SoakSample[];
  minutes: SoakMinute[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
};
const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number);
const round1 = (value: number) => Math.round(value * 10) / 10;

type Scraped = Pick<SoakSample, 'heapUsedMb' | 'heapTotalMb' | 'externalMb' | 'metricSeries'>;

/** Memory and the number of series, from the process's own Prometheus text. */
async function scrape(metricsUrl: string): Promise<Scraped> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(4_000) })).text();
    const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const mb = (name: string) => {
      const line = lines.find((candidate) => candidate.startsWith(`${name} `));
      return line ? round1(Number(line.split(' ')[1]) / 2 ** 20) : null;
    };
    return {
      heapUsedMb: mb('nodejs_heap_size_used_bytes'),
      heapTotalMb: mb('nodejs_heap_size_total_bytes'),
      externalMb: mb('nodejs_external_memory_bytes'),
      metricSeries: lines.length,
    };
  } catch {
    return { heapUsedMb: null, heapTotalMb: null, externalMb: null, metricSeries: null };
  }
}

async function outboxNotDone(client: pg.Client): Promise<number | null> {
  try {
    const { rows } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM outbox_jobs WHERE status NOT IN ('done', 'published')`,
    );
    return rows[0]?.count ?? null;
  } catch {
    return null;
  }
}

/** Least-squares slope of RSS over time, in MB per minute. */
function slopePerMinute(samples: SoakSample[]): number {
  if (samples.length < 2) return 0;
  const meanT = samples.reduce((sum, s) => sum + s.t, 0) / samples.length;
  const meanR = samples.reduce((sum, s) => sum + s.rssMb, 0) / samples.length;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - meanT) * (s.rssMb - meanR);
    den += (s.t - meanT) ** 2;
  }
  return den === 0 ? 0 : round1((60 * num) / den);
}

/** From the samples: base after the warm-up, end, max after the warm-up, growth, trend and the verdict. */
export function soakVerdict(samples: SoakSample[], warmupSeconds: number, seconds: number) {
  const windowSeconds = Math.min(MAX_WINDOW_S, Math.floor((seconds - warmupSeconds) / 2));
  const after = samples.filter((sample) => sample.t >= warmupSeconds);
  const baseWindow = after.filter((s) => s.t < warmupSeconds + windowSeconds);
  const endWindow = after.filter((s) => s.t >= seconds - windowSeconds);
  const medianOf = (window: SoakSample[], read: (s: SoakSample) => number | null) => {
    const values = window.map(read).filter((value): value is number => value !== null);
    return values.length === 0 ? null : median(values);
  };
  const base = medianOf(baseWindow, (s) => s.rssMb) ?? 0;
  const end = medianOf(endWindow, (s) => s.rssMb) ?? 0;
  const growthPct = base > 0 ? round1((100 * (end - base)) / base) : 0;
  return {
    windowSeconds,
    baseRssMb: Math.round(base),
    endRssMb: Math.round(end),
    maxRssMb: Math.round(Math.max(0, ...after.map((s) => s.rssMb))),
    growthPct,
    rssSlopeMbPerMin: slopePerMinute(after),
    baseHeapUsedMb: medianOf(baseWindow, (s) => s.heapUsedMb),
    endHeapUsedMb: medianOf(endWindow, (s) => s.heapUsedMb),
    baseMetricSeries: medianOf(baseWindow, (s) => s.metricSeries),
    endMetricSeries: medianOf(endWindow, (s) => s.metricSeries),
    pass: base > 0 && growthPct < SOAK_GROWTH_LIMIT_PCT,
  };
}

export async function runSoak(options: {
  url: string;
  pid: number | undefined;
  databaseUrl: string;
  connections: number;
  mix: { requests: Request[]; startTally(): MixTally };
  seconds: number;
  warmupSeconds: number;
  sampleSeconds: number;
}) {
  const { seconds, warmupSeconds, sampleSeconds } = options;
  if (seconds < warmupSeconds + 2 * MIN_WINDOW_S) {
    throw new Error(
      `BENCH_SOAK_SECONDS (${seconds}) must leave at least ${2 * MIN_WINDOW_S} s after BENCH_SOAK_WARMUP (${warmupSeconds})`,
    );
  }
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  const samples: SoakSample[] = [];
  const minutes: SoakMinute[] = [];
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;

  let latencies: number[] = [];
  let errors = 0;
  let minuteStarted = 0;
  let answers = options.mix.startTally();
  const closeMinute = () => {
    const now = elapsed();
    const span = now - minuteStarted;
    if (span < 1) return;
    latencies.sort((a, b) => a - b);
    const inMinute = samples.filter((sample) => sample.t >= minuteStarted && sample.t <= now);
    const heaps = inMinute.map((sample) => sample.heapUsedMb).filter((heap): heap is number => heap !== null);
    minutes.push({
      minute: minutes.length + 1,
      seconds: Math.round(span),
      rps: Math.round(latencies.length / span),
      p99: Math.round(percentile(latencies, 99)),
      errors,
      undesigned: undesignedCount(answers),
      orders: answers.checkout['201'] ?? 0,
      heapFloorMb: heaps.length === 0 ? null : Math.min(...heaps),
      outboxNotDone: inMinute.at(-1)?.outboxNotDone ?? null,
      answers,
    });
    latencies = [];
    errors = 0;
    minuteStarted = now;
    answers = options.mix.startTally();
  };

  let sampling = Promise.resolve();
  const sample = () => {
    const t = Math.round(elapsed());
    const rss = rssMb(options.pid);
    sampling = sampling.then(async () => {
      const [metrics, outbox] = await Promise.all([scrape(`${options.url}/metrics`), outboxNotDone(db)]);
      samples.push({ t, rssMb: round1(rss), ...metrics, outboxNotDone: outbox });
    });
  };
  sample();
  const sampler = setInterval(sample, sampleSeconds * 1000);
  const minuteTimer = setInterval(closeMinute, 60_000);

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: seconds,
        requests: options.mix.requests,
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
    instance.on('reqError', () => {
      errors += 1;
    });
  });
  clearInterval(sampler);
  clearInterval(minuteTimer);
  closeMinute();
  sample();
  await sampling;
  await db.end();

  const total = emptyTally();
  for (const minute of minutes) {
    for (const action of MIX_ACTIONS) {
      for (const [status, n] of Object.entries(minute.answers[action])) {
        total[action][status] = (total[action][status] ?? 0) + n;
      }
    }
  }
  const report: SoakReport = {
    seconds,
    warmupSeconds,
    sampleSeconds,
    ...soakVerdict(samples, warmupSeconds, elapsed()),
    samples,
    minutes,
  };
  return { result, report, answers: total };
}
