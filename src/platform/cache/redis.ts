import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The one way Bazaar opens Redis (rate limits now, the cache later). Commands fail fast instead of queueing
 * while the connection is down (`enableOfflineQueue: false`, one retry), so a Redis outage costs callers a
 * quick error they can fall back from, never a request that hangs.
 */
export function createRedis(url: string, name: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    connectionName: `bazaar-${name}`,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Without a listener ioredis reports every failed reconnect as an unhandled 'error' event.
  redis.on('error', (error: Error) => logger.warn({ err: error, redis: name }, 'redis connection error'));
  return redis;
}

/** Connects, waiting at most timeoutMs; false when Redis is unreachable (callers degrade, they do not stop). */
export async function connectRedis(redis: Redis, timeoutMs = 5_000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([redis.connect().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
