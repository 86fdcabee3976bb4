import { Type } from '@sinclair/typebox';
import type { Queryable } from '../db/index.js';
import { enqueue } from '../jobs/outbox.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { ResponseCache } from './response-cache.js';

/**
 * Invalidation as durable as the write. A write bumps the generations it changed right after its commit (the
 * fast path: the instance that wrote serves the new version at once), but a process that dies between the
 * commit and that bump would leave the old answers reachable until they expire. So the write also records the
 * bump as an outbox job in its own transaction: the job exists if and only if the write committed, and it
 * bumps the same generations again when it runs, on whichever process runs jobs. A second bump costs each
 * entry one more miss; writes that record one are the catalog's edits, reviews (a rating that moved), returned
 * stock and `bazaar import` (the checkout's taken stock rides on its payment's capture job instead, see
 * orders/jobs.ts).
 */
export const CACHE_INVALIDATE_JOB = 'cache.invalidate';

const Payload = Type.Object({
  deps: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 10_000 }),
});

/** Inside the write's transaction: the generations it changes, bumped again by a job once it commits. */
export async function recordInvalidation(tx: Queryable, deps: readonly string[]): Promise<void> {
  if (deps.length > 0) await enqueue(tx, CACHE_INVALIDATE_JOB, { deps });
}

/**
 * Attempts before the job goes dead: about five hours of retries with the runner's backoff (doubling from 1 s,
 * capped at 10 minutes, each delay jittered down to half at most), about seven and a half with RabbitMQ's delays,
 * so a Redis outage of minutes leaves retries, not dead jobs and their alert.
 */
const MAX_ATTEMPTS = 50;

/**
 * The job's handler. A bump Redis could not take fails the job, which is retried with backoff: the cache of
 * the process that ran it remembers the loss too, but only in memory.
 */
export function registerCacheJobs(registry: JobRegistry, cache: ResponseCache): void {
  registry.register(
    CACHE_INVALIDATE_JOB,
    Payload,
    async ({ deps }) => {
      if (!(await cache.invalidate(deps))) {
        throw new Error(`Redis did not take the bump of ${deps.length} generation(s); the job will retry`);
      }
    },
    { maxAttempts: MAX_ATTEMPTS },
  );
}
