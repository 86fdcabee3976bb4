import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * Fixed-window counters behind every rate limit. Two kinds:
 * - in this process's memory: the generous global per-address limit. It runs on every API request, so it
 *   must not cost a Redis round trip; across N instances a client gets at most N times the budget, which is
 *   fine for a flood guard.
 * - in Redis when REDIS_URL is set: the strict limits (failed logins, registration, reset requests). They are
 *   rare requests where one shared budget matters, so N instances enforce one count. If Redis fails, the
 *   count falls back to memory: a Redis outage weakens the limit per instance, it never turns requests away.
 */

export interface WindowCount {
  /** Hits in the current window, this one included. */
  current: number;
  /** Milliseconds until the window resets. */
  ttl: number;
}

export interface Counter {
  incr(key: string, windowMs: number): Promise<WindowCount>;
  read(key: string, windowMs: number): Promise<WindowCount>;
}

/** A counter in this process's memory; `hit` counts synchronously, for callers that cannot wait. */
export function memoryCounter(
  maxKeys = 50_000,
): Counter & { hit(key: string, windowMs: number): WindowCount } {
  const windows = new LRUCache<string, { count: number; resetAt: number }>({ max: maxKeys });
  const live = (key: string, now: number) => {
    const entry = windows.get(key);
    return entry && entry.resetAt > now ? entry : undefined;
  };
  const hit = (key: string, windowMs: number): WindowCount => {
    const now = Date.now();
    let entry = live(key, now);
    if (entry === undefined) {
      entry = { count: 0, resetAt: now + windowMs };
      windows.set(key, entry);
    }
    entry.count += 1;
    return { current: entry.count, ttl: entry.resetAt - now };
  };
  return {
    hit,
    incr: async (key, windowMs) => hit(key, windowMs),
    read: async (key) => {
      const now = Date.now();
      const entry = live(key, now);
      return entry ? { current: entry.count, ttl: entry.resetAt - now } : { current: 0, ttl: 0 };
    },
  };
}

// INCR and PEXPIRE in one script, so a crash between them cannot leave a counter without an expiry.
const INCR_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}`;

const READ_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
return {tonumber(current), math.max(redis.call('PTTL', KEYS[1]), 0)}`;

export function redisCounter(redis: Redis, prefix: string, fallback: Counter = memoryCounter()): Counter {
  const run = async (script: string, key: string, windowMs: number, onError: () => Promise<WindowCount>) => {
    try {
      const [current, ttl] = (await redis.eval(script, 1, `${prefix}${key}`, windowMs)) as [number, number];
      return { current, ttl };
    } catch {
      return onError();
    }
  };
  return {
    incr: (key, windowMs) => run(INCR_SCRIPT, key, windowMs, () => fallback.incr(key, windowMs)),
    read: (key, windowMs) => run(READ_SCRIPT, key, windowMs, () => fallback.read(key, windowMs)),
  };
}

type Callback = (error: Error | null, result?: WindowCount) => void;

function forward(counter: Counter, key: string, timeWindow: number, callback: Callback): void {
  counter.incr(key, timeWindow).then(
    (count) => callback(null, count),
    (error: Error) => callback(error),
  );
}

/**
 * The store @fastify/rate-limit counts in: the plugin-wide (global) limit in this process's memory, and every
 * limit a route declares (`config: { rateLimit: {...} }`) in the shared counter, keyed by its route.
 */
export function rateLimitStore(shared: Counter, local: Counter): FastifyRateLimitStoreCtor {
  return class GlobalLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      forward(local, `global:${key}`, timeWindow, callback);
    }

    child(options: object): FastifyRateLimitStore {
      // The plugin passes the merged limit options; the route they belong to sits in routeInfo.
      const route = (options as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      const scope = `route:${String(route.method)}:${String(route.url)}`;
      return {
        incr: (key, callback, timeWindow) => forward(shared, `${scope}:${key}`, timeWindow, callback),
        child: () => this.child(options),
      };
    }
  };
}
