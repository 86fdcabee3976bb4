import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database, QueryObserver } from '../db/index.js';

/**
 * Every metric Bazaar exports, in one registry. Modules import the objects below and count what they do:
 *   import { cacheRequests } from '../../platform/observability/metrics.js';
 *   cacheRequests.inc({ tier: 'l1', result: 'hit' });
 * docs/monitoring.md says what each one means and which alert or dashboard reads it. In cluster mode the
 * primary adds the workers' registries up (see cluster.ts): `aggregator` says how a metric combines, summed
 * unless stated; gauges measured from the shared database take the maximum, since every worker sees the same.
 */
export const registry = new Registry();

// Process metrics: CPU, memory, heap, event-loop lag, GC, handles. Unprefixed, as Prometheus users expect.
collectDefaultMetrics({ register: registry });

/** Latency buckets from a cached read (about a millisecond) to a slow checkout (seconds). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// ---- HTTP ----

/** One series of a LatencyHistogram: an observation is a bucket search and three additions. */
export class LatencySeries {
  /** Observations per bound, not cumulative; one above every bound is only in `count` (the +Inf bucket). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket += 1;
    if (bucket < bounds.length) this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/**
 * A histogram for the duration of every request, exported in prom-client's histogram format through the same
 * registry (and added up across cluster workers like any other: `aggregator` sum). Its series are looked up
 * by label values and kept: prom-client's Histogram validated and hashed its label object at every
 * observation, about 1 µs in a micro-benchmark and 3.5 µs of a cached GET's 90 µs in a profile at saturation
 * (docs/performance_tuning.md, item 15). The front door keeps the series of a URL and observes it directly.
 */
export class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, LatencySeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    register: Registry,
  ) {
    register.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of these label values (in labelNames' order), made on first use. */
  series(...values: string[]): LatencySeries {
    const key = values.join('\u0000');
    let found = this.all.get(key);
    if (found === undefined) {
      if (values.length !== this.labelNames.length) {
        throw new Error(`${this.name} takes ${this.labelNames.length} label values, not ${values.length}`);
      }
      found = new LatencySeries(
        Object.fromEntries(this.labelNames.map((name, index) => [name, values[index] as string])),
        this.bounds,
      );
      this.all.set(key, found);
    }
    return found;
  }

  /** What registry.metrics() and the cluster's aggregation read: prom-client's histogram samples. */
  get() {
    const bucket = `${this.name}_bucket`;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.all.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += series.counts[index] as number;
        values.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucket },
        { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
        { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Zeroes every series in place: the front door holds on to its series. */
  reset(): void {
    for (const series of this.all.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

/** Request duration by method, route template (`/api/products/:id`, 'unmatched' for 404s) and status. */
export const httpRequestDuration = new LatencyHistogram(
  'bazaar_http_request_duration_seconds',
  'HTTP request duration in seconds, by method, route template and status code',
  ['method', 'route', 'status'],
  LATENCY_BUCKETS,
  registry,
);

export const httpRequestsInFlight = new Gauge({
  name: 'bazaar_http_requests_in_flight',
  help: 'HTTP requests received and not yet answered',
  registers: [registry],
});

/** 1 per API process: the cluster's aggregated value says how many workers answered the scrape. */
export const processesReporting = new Gauge({
  name: 'bazaar_processes',
  help: 'API processes whose metrics are included in this scrape',
  registers: [registry],
});
processesReporting.set(1);

// ---- Database ----

/**
 * Statement duration by pool: `primary` (writes, transactions) or `reader` (replica-tolerant reads). A lean
 * histogram, like the requests': an order's statements each paid prom-client's labelled observation
 * (about 1 µs; 1.3% of the server's busy time in a checkout profile).
 */
export const dbQueryDuration = new LatencyHistogram(
  'bazaar_db_query_duration_seconds',
  'Database statement duration in seconds, by pool (primary or reader)',
  ['pool'],
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  registry,
);
const dbQuerySeries: Partial<Record<string, LatencySeries>> = {};

export const dbQueryErrors = new Counter({
  name: 'bazaar_db_query_errors_total',
  help: 'Database statements that failed, by pool',
  labelNames: ['pool'] as const,
  registers: [registry],
});

/** Connections of each pool by state: busy, idle, and callers waiting for one (filled at scrape time). */
export const dbPoolConnections = new Gauge({
  name: 'bazaar_db_pool_connections',
  help: 'Database pool connections by pool and state (busy, idle, waiting callers, max)',
  labelNames: ['pool', 'state'] as const,
  registers: [registry],
  collect() {
    for (const use of scrapeDatabase?.poolUse?.() ?? []) {
      this.set({ pool: use.pool, state: 'busy' }, use.busy);
      this.set({ pool: use.pool, state: 'idle' }, use.idle);
      this.set({ pool: use.pool, state: 'waiting' }, use.waiting);
      this.set({ pool: use.pool, state: 'max' }, use.max);
    }
  },
});

/** Seconds each replica's replayed data is behind the primary, as the replica router last measured it. */
export const dbReplicaLag = new Gauge({
  name: 'bazaar_db_replica_lag_seconds',
  help: 'Replication lag of each read replica in seconds',
  labelNames: ['replica'] as const,
  aggregator: 'max',
  registers: [registry],
  collect() {
    for (const replica of scrapeDatabase?.replicas() ?? []) {
      if (replica.lagMs !== null) this.set({ replica: replica.name }, replica.lagMs / 1000);
    }
  },
});

// ---- Cache ----

/** Cache lookups by tier (`l1` in-process, `l2` Redis) and result (`hit`, `miss`). */
export const cacheRequests = new Counter({
  name: 'bazaar_cache_requests_total',
  help: 'Cache lookups by tier (l1, l2) and result (hit, miss)',
  labelNames: ['tier', 'result'] as const,
  registers: [registry],
});

// ---- Outbox, jobs, broker ----

/** Outbox rows waiting to run (pending or running), from outbox_jobs at scrape time, up to OUTBOX_BACKLOG_CAP. */
export const outboxBacklog = new Gauge({
  name: 'bazaar_outbox_backlog',
  help: 'Outbox jobs pending or running (counted up to 10000)',
  aggregator: 'max',
  registers: [registry],
  async collect() {
    const snapshot = await outboxSnapshot();
    if (snapshot) this.set(snapshot.backlog);
  },
});

export const outboxOldestAge = new Gauge({
  name: 'bazaar_outbox_oldest_age_seconds',
  help: 'Seconds the most overdue outbox job has waited since it became due (0 when none)',
  aggregator: 'max',
  registers: [registry],
  async collect() {
    const snapshot = await outboxSnapshot();
    if (snapshot) this.set(snapshot.oldest);
  },
});

/** Outbox rows that exhausted their retries (status 'dead'): each one is a side effect that did not happen. */
export const outboxDead = new Gauge({
  name: 'bazaar_outbox_dead_jobs',
  help: 'Outbox jobs that failed for good (status dead)',
  aggregator: 'max',
  registers: [registry],
  async collect() {
    const snapshot = await outboxSnapshot();
    if (snapshot) this.set(snapshot.dead);
  },
});

/** Jobs handled, by type and outcome: `done`, `failed` (for good) or `retried` (will run again). */
export const jobsProcessed = new Counter({
  name: 'bazaar_jobs_total',
  help: 'Background jobs handled, by type and outcome (done, failed, retried)',
  labelNames: ['type', 'outcome'] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'bazaar_job_duration_seconds',
  help: 'Background job handler duration in seconds, by type',
  labelNames: ['type'] as const,
  buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

/** 1 while this process holds an open broker connection, 0 otherwise; the cluster reports its weakest. */
export const brokerConnected = new Gauge({
  name: 'bazaar_broker_connected',
  help: 'Whether the RabbitMQ connection is open (1) or not (0)',
  aggregator: 'min',
  registers: [registry],
});

let deadLetterReader: (() => Promise<number>) | null = null;

/** How a consumer counts the messages of its dead queues at scrape time; null stops the reading. */
export function setDeadLetterReader(read: (() => Promise<number>) | null): void {
  deadLetterReader = read;
}

/** Messages in the broker's dead-letter queues, read at scrape time by the process that consumes them. */
export const brokerDeadLetters = new Gauge({
  name: 'bazaar_broker_dead_letter_messages',
  help: 'Messages waiting in the RabbitMQ dead-letter queue',
  aggregator: 'max',
  registers: [registry],
  async collect() {
    const count = await deadLetterReader?.().catch(() => null);
    if (typeof count === 'number') this.set(count);
  },
});

// ---- Business ----

export const ordersPlaced = new Counter({
  name: 'bazaar_orders_placed_total',
  help: 'Orders placed',
  registers: [registry],
});

/** Revenue of placed orders in cents: whole numbers keep the counter exact (use addRevenue). */
export const revenueCents = new Counter({
  name: 'bazaar_revenue_cents_total',
  help: 'Revenue of placed orders, in cents',
  registers: [registry],
});

export const paymentFailures = new Counter({
  name: 'bazaar_payment_failures_total',
  help: 'Payments that failed, by reason (declined, error)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const registrations = new Counter({
  name: 'bazaar_registrations_total',
  help: 'Accounts registered',
  registers: [registry],
});

export const loginFailures = new Counter({
  name: 'bazaar_login_failures_total',
  help: 'Failed login attempts (unknown account, wrong password, or throttled)',
  registers: [registry],
});

/** Adds a decimal money string ("19.99") to the revenue counter as whole cents, without float arithmetic. */
export function addRevenue(amount: string): void {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(amount);
  if (!match) throw new Error(`not a money amount: "${amount}"`);
  revenueCents.inc(Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')));
}

// ---- Scrape-time readings ----

let scrapeDatabase: Database | null = null;

/** The database that scrape-time gauges read (outbox table, pool use); null stops those readings. */
export function setScrapeDatabase(db: Database | null): void {
  scrapeDatabase = db;
}

/** Feeds the database metrics; give it to observeDatabase. One histogram observation per statement. */
export const databaseObserver: QueryObserver = (pool, seconds, failed) => {
  let series = dbQuerySeries[pool];
  if (series === undefined) {
    series = dbQueryDuration.series(pool);
    dbQuerySeries[pool] = series;
  }
  series.observe(seconds);
  if (failed) dbQueryErrors.inc({ pool });
};

interface OutboxSnapshot {
  backlog: number;
  oldest: number;
  dead: number;
}

/** The backlog count stops here: past the alert threshold an exact figure is not worth a long scan. */
const OUTBOX_BACKLOG_CAP = 10_000;

// One query for the three gauges of a scrape, over the two partial indexes (due rows, dead rows): the age
// reads the first entry of outbox_jobs_due_idx; the counts read at most OUTBOX_BACKLOG_CAP rows (about 10 ms).
const OUTBOX_SQL = `
  SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox_jobs WHERE status IN ('pending', 'running')
           LIMIT ${OUTBOX_BACKLOG_CAP}) AS due)::int AS backlog,
         (SELECT GREATEST(0, COALESCE(EXTRACT(EPOCH FROM now() - min(run_at)), 0)) FROM outbox_jobs
           WHERE status IN ('pending', 'running'))::float8 AS oldest,
         (SELECT count(*) FROM (SELECT 1 FROM outbox_jobs WHERE status = 'dead'
           LIMIT ${OUTBOX_BACKLOG_CAP}) AS dead)::int AS dead`;

let outboxReading: Promise<OutboxSnapshot | null> | null = null;

/** One outbox query per scrape, shared by its three gauges; null (gauges unchanged) when the database fails. */
function outboxSnapshot(): Promise<OutboxSnapshot | null> {
  const db = scrapeDatabase;
  if (db === null) return Promise.resolve(null);
  outboxReading ??= db
    .query<OutboxSnapshot>(OUTBOX_SQL)
    .then((result) => result.rows[0] ?? null)
    .catch(() => null)
    .finally(() => {
      outboxReading = null;
    });
  return outboxReading;
}
