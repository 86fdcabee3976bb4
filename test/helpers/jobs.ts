import pino from 'pino';
import { registerCacheJobs } from '../../src/platform/cache/invalidation-job.js';
import type { ResponseCache } from '../../src/platform/cache/response-cache.js';
import type { Database } from '../../src/platform/db/index.js';
import { createJobRegistry, type JobRegistry } from '../../src/platform/jobs/registry.js';
import { type JobRunner, startJobRunner } from '../../src/platform/jobs/runner.js';

/** A runner with millisecond backoff, so retries happen within a test. */
export function fastRunner(db: Database, registry: JobRegistry, leaseMs = 60_000): Promise<JobRunner> {
  return startJobRunner({
    db,
    registry,
    logger: pino({ level: 'silent' }),
    leaseMs,
    idlePollMs: 100,
    backoff: { baseMs: 20, maxMs: 100 },
  });
}

/**
 * Runs the committed cache-invalidation jobs, and only those (a checkout's capture job bumps stock by itself),
 * with `cache`, until `done` holds; throws after timeoutMs.
 */
export async function runCacheJobsUntil(
  db: Database,
  cache: ResponseCache,
  what: string,
  done: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const registry = createJobRegistry();
  registerCacheJobs(registry, cache);
  const runner = await fastRunner(db, registry);
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await runner.stop();
  }
}
