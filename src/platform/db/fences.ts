import { Redis } from 'ioredis';
import type { Lsn } from './lsn.js';

/**
 * Read-your-writes across instances: after a user's write, the primary's WAL position is kept here for a
 * short while, and that user's reads go only to a replica that has replayed it. Every instance must see the
 * same fences, so they live in Redis.
 */
export interface FenceStore {
  /** Remembers that a user's reads need a replica at or past position, for ttlMs. */
  record(user: string, position: Lsn, ttlMs: number): Promise<void>;
  /** The position the user's reads need: null when none, 'primary' when it cannot be known. */
  get(user: string): Promise<Lsn | 'primary' | null>;
  close(): Promise<void>;
}

// Keeps the highest position: two writes by one user finishing on two instances may record out of order.
const RECORD_MAX = `
local current = redis.call('GET', KEYS[1])
if (not current) or current < ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`;

export function redisFences(url: string): FenceStore {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 500,
  });
  // Connection trouble shows up as failed commands, answered below; the client reconnects by itself.
  redis.on('error', () => {});
  const key = (user: string) => `bazaar:fence:${user}`;
  return {
    record: async (user, position, ttlMs) => {
      await redis.eval(RECORD_MAX, 1, key(user), position, String(ttlMs));
    },
    get: async (user) => {
      try {
        return await redis.get(key(user));
      } catch {
        // Without the fence, only the primary is certainly fresh enough for this user.
        return 'primary';
      }
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

/**
 * Without a shared store there is no way to know on this instance what the user wrote on another, so a
 * signed-in user always reads from the primary; anonymous reads still use the replicas.
 */
export function signedInReadPrimary(): FenceStore {
  return {
    record: async () => {},
    get: async () => 'primary',
    close: async () => {},
  };
}
