import pino from 'pino';
import type { Database } from '../../src/platform/db/index.js';
import type { JobRegistry } from '../../src/platform/jobs/registry.js';
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
