import { Redis } from 'ioredis';

/**
 * A Redis client that fails fast instead of queueing: with Redis down, a command errors at once (no offline
 * queue, no per-request retries) so callers fall back to the database, while one background reconnect loop
 * backs off to at most 2 s between attempts. A command on a hung server gives up after commandTimeoutMs.
 */
export function createRedisClient(url: string, options: { name: string; commandTimeoutMs?: number }): Redis {
  const client = new Redis(url, {
    connectionName: options.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: options.commandTimeoutMs ?? 250,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    enableAutoPipelining: true,
  });
  // Connection errors are expected during an outage; callers follow the client's status instead.
  client.on('error', () => {});
  return client;
}
