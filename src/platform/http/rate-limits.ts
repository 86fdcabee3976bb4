import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { AppError } from './errors.js';
import {
  type Counter,
  memoryCounter,
  rateLimitStore,
  redisCounter,
  type WindowCount,
} from './rate-limit-store.js';

/**
 * Every rate limit Bazaar applies, before RATE_LIMIT_FACTOR scales them (0 turns them all off). docs/security.md
 * explains the choices.
 */
export const BASE_LIMITS = {
  /** Every /api/ request, per client address, per process (in memory: no Redis round trip). */
  global: { max: 600, windowMs: 60_000 },
  /** Failed logins per account, shared by every instance. */
  loginFailuresPerAccount: { max: 10, windowMs: 15 * 60_000 },
  /** Failed logins per client address, shared by every instance. */
  loginFailuresPerAddress: { max: 10, windowMs: 15 * 60_000 },
  /** Registrations per client address. */
  register: { max: 20, windowMs: 60 * 60_000 },
  /** Password reset requests per client address. */
  passwordReset: { max: 10, windowMs: 60 * 60_000 },
} as const;

export type LimitName = keyof typeof BASE_LIMITS;

export interface Limit {
  max: number;
  windowMs: number;
}

/** For a route's `config.rateLimit` (counted on every request to it, in the shared counter). */
export type RouteRateLimit = { max: number; timeWindow: number } | false;

/** Counts only failures (a wrong password), and refuses further attempts once a key has used its budget. */
export interface FailureLimiter {
  /** Throws a 429 with Retry-After when the key has no failures left in its window. */
  check(key: string): Promise<void>;
  recordFailure(key: string): Promise<void>;
}

export interface RateLimits {
  enabled: boolean;
  limit(name: LimitName): Limit;
  route(name: LimitName): RouteRateLimit;
  failures(name: LimitName): FailureLimiter;
  /** The @fastify/rate-limit store: global limit in memory, route limits shared. */
  store: FastifyRateLimitStoreCtor;
  /**
   * Counts one request of a client against the global limit at once, in the counter the plugin counts in
   * (`key` as the plugin keys it: the client's IPv4 address). Null while limits are off.
   */
  countGlobal(key: string): (WindowCount & { max: number }) | null;
}

export function tooManyRequests(ttlMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new AppError('rate_limited', `Too many attempts; retry in ${seconds} seconds`, undefined, {
    'retry-after': String(seconds),
  });
}

export function createRateLimits(options: {
  factor: number;
  redis: Redis | null;
  prefix: string;
}): RateLimits {
  const shared: Counter =
    options.redis === null ? memoryCounter() : redisCounter(options.redis, `${options.prefix}ratelimit:`);
  const local = memoryCounter();
  const enabled = options.factor > 0;
  const limit = (name: LimitName): Limit => ({
    max: Math.max(1, Math.round(BASE_LIMITS[name].max * options.factor)),
    windowMs: BASE_LIMITS[name].windowMs,
  });
  return {
    enabled,
    limit,
    route: (name) => (enabled ? { max: limit(name).max, timeWindow: limit(name).windowMs } : false),
    failures: (name) => {
      const { max, windowMs } = limit(name);
      return {
        check: async (key) => {
          if (!enabled) return;
          const count = await shared.read(`${name}:${key}`, windowMs);
          if (count.current >= max) throw tooManyRequests(count.ttl);
        },
        recordFailure: async (key) => {
          if (enabled) await shared.incr(`${name}:${key}`, windowMs);
        },
      };
    },
    store: rateLimitStore(shared, local),
    countGlobal: (key) => {
      if (!enabled) return null;
      const { max, windowMs } = limit('global');
      return { max, ...local.hit(`global:${key}`, windowMs) };
    },
  };
}
