import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { createRedisClient } from './redis-client.js';

/**
 * A two-tier cache of serialized responses: an in-process L1 (lru-cache) in front of Redis when a URL is given,
 * the L1 alone otherwise. Entries are the response bytes and their ETag, so a hit serializes nothing.
 *
 * Invalidation is by versioned keys. Every entry names the generations it depends on ('product:42',
 * 'categories'); its key carries their current values, so bumping a generation makes every entry built before
 * unreachable on every instance at once, and a slow reader that stores an old answer stores it under a key
 * nobody asks for any more. With Redis, generations live in Redis and each instance keeps a copy for at most
 * GENERATION_TTL_MS (measured from before the read was sent): that is the bound on serving an old version.
 * A copy still in use is read again from Redis once it is REFRESH_AHEAD_MS old, while it keeps serving: the
 * reads of a hot URL never wait for Redis, nor go in a burst to the router, every time its copies expire
 * (each did every 500 ms: a p99 cost). A refresh that has not come back by the copy's end changes nothing: the
 * copy expires and the next read waits for Redis as before.
 *
 * Outage: while Redis is unreachable every request goes to the loader (the database), still single-flight.
 * An invalidation that could not reach Redis is remembered; when Redis is back, this instance bumps the
 * 'epoch' generation (part of every key) before caching again, so nothing from before the outage is served.
 */

export const GENERATION_TTL_MS = 500;
export const REFRESH_AHEAD_MS = 400;
const DEFAULT_L1_BYTES = 32 * 1024 * 1024;
const EPOCH = 'epoch';

export interface CachedResponse {
  body: Buffer;
  /** A strong ETag: a hash of the bytes, computed once when the entry is built. */
  etag: string;
}

export interface CacheLookup {
  /** What the response is, without versions: 'product:42', 'products:["price",20]'. */
  key: string;
  /** Generations the response depends on. */
  deps: readonly string[];
  /** The longest an entry may be served, whatever happens to its generations. */
  ttlMs: number;
  /** Builds the response's JSON text from the source of truth. */
  load: () => Promise<string>;
}

export interface CacheStats {
  l1Hits: number;
  l2Hits: number;
  misses: number;
  /** Requests served straight from the loader because Redis was unreachable. */
  bypasses: number;
  missedInvalidations: number;
}

export interface ResponseCache {
  get(lookup: CacheLookup): Promise<CachedResponse>;
  /**
   * The L1 entry get() would answer with, found without waiting: only when every generation it depends on is
   * known here and still within its bound, and the entry is in L1. Otherwise undefined, and get() decides.
   */
  peek(key: string, deps: readonly string[]): CachedResponse | undefined;
  /**
   * Bumps generations, after the write that changed them committed. Never throws: an outage is remembered.
   * Resolves to whether the bump landed (always, without Redis); false when Redis could not take it.
   */
  invalidate(deps: readonly string[]): Promise<boolean>;
  /** 'local' (no Redis), 'up', or 'down' (Redis unreachable: serving from the database). */
  status(): 'local' | 'up' | 'down';
  readonly stats: CacheStats;
  /** Resolves once Redis is usable (at once without Redis), or after timeoutMs: the cache works either way. */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface ResponseCacheOptions {
  redisUrl: string | null;
  /** Prefixes every Redis key: the processes of one database share entries, other databases never do. */
  namespace: string;
  l1MaxBytes?: number;
}

/**
 * A Buffer of its own: small Buffer.from() results are slices of shared 8 KB slabs, and a slice of a Redis reply
 * would keep the whole socket chunk alive, so an LRU of slices would hold far more memory than it counts.
 */
function ownBytes(source: string | Buffer): Buffer {
  const length = typeof source === 'string' ? Buffer.byteLength(source) : source.length;
  const bytes = Buffer.allocUnsafeSlow(length);
  if (typeof source === 'string') bytes.write(source);
  else source.copy(bytes);
  return bytes;
}

function buildEntry(json: string): CachedResponse {
  const body = ownBytes(json);
  return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

/** Redis value: "<created ms>\n<etag>\n<body>", so an L1 copy expires when the Redis entry does. */
function encode(entry: CachedResponse, createdAt: number): Buffer {
  return Buffer.concat([Buffer.from(`${createdAt}\n${entry.etag}\n`), entry.body]);
}

function decode(raw: Buffer): { entry: CachedResponse; createdAt: number } | null {
  const first = raw.indexOf(10);
  const second = raw.indexOf(10, first + 1);
  if (first < 0 || second < 0) return null;
  return {
    createdAt: Number(raw.subarray(0, first).toString()),
    entry: { etag: raw.subarray(first + 1, second).toString(), body: ownBytes(raw.subarray(second + 1)) },
  };
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const stats: CacheStats = { l1Hits: 0, l2Hits: 0, misses: 0, bypasses: 0, missedInvalidations: 0 };
  const l1 = new LRUCache<string, CachedResponse>({
    maxSize: options.l1MaxBytes ?? DEFAULT_L1_BYTES,
    sizeCalculation: (entry, key) => entry.body.length + key.length + 100,
  });
  const flights = new Map<string, Promise<CachedResponse>>();

  /** One load per key at a time in this process: concurrent callers share its promise. */
  function singleFlight(key: string, run: () => Promise<CachedResponse>): Promise<CachedResponse> {
    let flight = flights.get(key);
    if (!flight) {
      flight = run().finally(() => flights.delete(key));
      flights.set(key, flight);
    }
    return flight;
  }

  const redis: Redis | null =
    options.redisUrl === null ? null : createRedisClient(options.redisUrl, { name: 'bazaar-cache' });
  const ENTRY_PREFIX = `bazaar:${options.namespace}:entry:`;
  const GENERATION_PREFIX = `bazaar:${options.namespace}:gen:`;

  // Generations. Without Redis they are this process's own counters: an evicted one could come back as 0 and
  // revive an old entry, so eviction bumps the epoch (part of every key) instead. With Redis they are copies.
  let clock = 0;
  let localEpoch = 0;
  // With Redis a copy lives GENERATION_TTL_MS, so 20,000 covers 40,000 distinct reads a second; lru-cache keeps
  // an expired copy until it is evicted, and with 200,000 the copies of a million-product crawl held ~25 MB.
  /** A generation's value, and when a read that uses it should have Redis read it again (never, without Redis). */
  interface Generation {
    value: number;
    refreshAt: number;
  }
  const generations = new LRUCache<string, Generation>({
    max: redis ? 20_000 : 200_000,
    ttl: redis ? GENERATION_TTL_MS : 0,
    dispose: (_value, _key, reason) => {
      if (!redis && reason === 'evict') localEpoch = ++clock;
    },
  });

  let up = false;
  let missedInvalidation = false;
  let recovering = false;

  /** Back after an outage: forget everything local, and invalidate everything if a write's bump was lost. */
  async function recover(): Promise<void> {
    if (recovering || !redis) return;
    recovering = true;
    try {
      if (missedInvalidation) await redis.incr(GENERATION_PREFIX + EPOCH);
      missedInvalidation = false;
      l1.clear();
      generations.clear();
      up = true;
    } catch {
      up = false;
      setTimeout(() => redis.status === 'ready' && void recover(), 1_000).unref();
    } finally {
      recovering = false;
    }
  }

  if (redis) {
    redis.on('ready', () => void recover());
    redis.on('close', () => {
      up = false;
    });
  }

  const generationFetches = new Map<string, Promise<number[]>>();

  const localGenerations = (deps: readonly string[]) =>
    `${localEpoch}.${deps.map((dep) => generations.get(dep)?.value ?? 0).join('.')}`;

  /**
   * A copy read from Redis by a request sent at `sentAt`: it lives GENERATION_TTL_MS from then. A generation
   * only grows while Redis is up (INCR; the copies are dropped when it comes back), so a lower value is a read
   * that crossed this process's own bump on the way: the copy of the bump stays.
   */
  function setCopy(name: string, value: number, sentAt: number): void {
    const current = generations.get(name);
    if (current !== undefined && current.value > value) return;
    const age = performance.now() - sentAt;
    generations.set(
      name,
      { value, refreshAt: sentAt + REFRESH_AHEAD_MS },
      { ttl: Math.max(1, GENERATION_TTL_MS - age) },
    );
  }

  /**
   * Reads these generations from Redis into copies, and resolves to the values read (in the names' order); one
   * read at a time for the same names.
   */
  function fetchGenerations(names: string[]): Promise<number[]> {
    const flightKey = names.join(',');
    let fetch = generationFetches.get(flightKey);
    if (!fetch) {
      const sentAt = performance.now();
      fetch = (redis as Redis)
        .mget(names.map((name) => GENERATION_PREFIX + name))
        .then((raw) => {
          const values = names.map((_, index) => Number(raw[index] ?? 0));
          names.forEach((name, index) => {
            setCopy(name, values[index] as number, sentAt);
          });
          return values;
        })
        .finally(() => generationFetches.delete(flightKey));
      generationFetches.set(flightKey, fetch);
    }
    return fetch;
  }

  /**
   * The versions part of an entry's key from what this process knows now: always without Redis; with Redis
   * only while every copy (the epoch's and each dependency's) is within GENERATION_TTL_MS, else undefined.
   */
  function knownGenerations(deps: readonly string[]): string | undefined {
    if (!redis) return localGenerations(deps);
    const epoch = generations.get(EPOCH);
    if (epoch === undefined) return undefined;
    const now = performance.now();
    let due: string[] | undefined;
    if (now >= epoch.refreshAt) due = [EPOCH];
    let versions = String(epoch.value);
    for (const dep of deps) {
      const copy = generations.get(dep);
      if (copy === undefined) return undefined;
      if (now >= copy.refreshAt) {
        due ??= [];
        due.push(dep);
      }
      versions += `.${copy.value}`;
    }
    if (due !== undefined) refreshAhead(due);
    return versions;
  }

  /** Has Redis read these copies again while they keep serving; a failure leaves them to expire. */
  function refreshAhead(names: string[]): void {
    for (const name of names) {
      const copy = generations.get(name);
      if (copy) copy.refreshAt = Number.POSITIVE_INFINITY;
    }
    if (up) fetchGenerations(names).catch(() => undefined);
  }

  async function currentGenerations(deps: readonly string[]): Promise<string> {
    if (!redis) return localGenerations(deps);
    const known = knownGenerations(deps);
    if (known !== undefined) return known;
    // Every name is read, not only the missing ones: a copy present now may lapse during the read, and the
    // key must never fall back to a version of 0 (an entry stored under it could be ten minutes old). A copy
    // higher than the value read is this process's own bump, made while the read was on its way.
    const names = [EPOCH, ...deps];
    const values = await fetchGenerations(names);
    return names
      .map((name, index) => Math.max(values[index] as number, generations.get(name)?.value ?? 0))
      .join('.');
  }

  async function fill(versionedKey: string, lookup: CacheLookup): Promise<CachedResponse> {
    if (redis) {
      const raw = await redis.getBuffer(ENTRY_PREFIX + versionedKey).catch(() => null);
      const stored = raw ? decode(raw) : null;
      const remaining = stored ? lookup.ttlMs - (Date.now() - stored.createdAt) : 0;
      if (stored && remaining > 0) {
        stats.l2Hits += 1;
        l1.set(versionedKey, stored.entry, { ttl: remaining });
        return stored.entry;
      }
    }
    stats.misses += 1;
    const entry = buildEntry(await lookup.load());
    l1.set(versionedKey, entry, { ttl: lookup.ttlMs });
    if (redis && up) {
      redis.set(ENTRY_PREFIX + versionedKey, encode(entry, Date.now()), 'PX', lookup.ttlMs).catch(() => {});
    }
    return entry;
  }

  function bypass(lookup: CacheLookup): Promise<CachedResponse> {
    stats.bypasses += 1;
    return singleFlight(`bypass|${lookup.key}`, async () => buildEntry(await lookup.load()));
  }

  return {
    stats,
    status: () => (redis ? (up ? 'up' : 'down') : 'local'),

    async get(lookup) {
      if (redis && !up) return bypass(lookup);
      let versions: string;
      try {
        versions = await currentGenerations(lookup.deps);
      } catch {
        return bypass(lookup);
      }
      const versionedKey = `${lookup.key}|${versions}`;
      const hit = l1.get(versionedKey);
      if (hit) {
        stats.l1Hits += 1;
        return hit;
      }
      return singleFlight(versionedKey, () => fill(versionedKey, lookup));
    },

    peek(key, deps) {
      if (redis && !up) return undefined;
      const versions = knownGenerations(deps);
      if (versions === undefined) return undefined;
      const hit = l1.get(`${key}|${versions}`);
      if (hit) stats.l1Hits += 1;
      return hit;
    },

    async invalidate(deps) {
      if (!redis) {
        for (const dep of deps) generations.set(dep, { value: ++clock, refreshAt: Number.POSITIVE_INFINITY });
        return true;
      }
      try {
        if (!up) throw new Error('Redis is unreachable');
        const sentAt = performance.now();
        const results = await redis.pipeline(deps.map((dep) => ['incr', GENERATION_PREFIX + dep])).exec();
        deps.forEach((dep, index) => {
          const [error, value] = results?.[index] ?? [new Error('no reply'), null];
          if (error) throw error;
          setCopy(dep, Number(value), sentAt);
        });
        return true;
      } catch {
        stats.missedInvalidations += 1;
        missedInvalidation = true;
        if (up) {
          // Redis answers but refused or timed out: stop caching until the epoch bump lands.
          up = false;
          setTimeout(() => redis.status === 'ready' && void recover(), 1_000).unref();
        }
        return false;
      }
    },

    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (redis && !up && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    },

    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect());
      l1.clear();
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's response cache: its status and counters (tests, readiness and metrics read them). */
    responseCache: ResponseCache;
  }
}
