import { jobDuration, jobsProcessed } from '../observability/metrics.js';

/** `done`: succeeded; `retried`: failed and will run again; `failed`: failed for good (dead). */
export type JobOutcome = 'done' | 'retried' | 'failed';

/**
 * Counts one run of a job handler. The in-process runner and the RabbitMQ consumer both call this, so the two
 * transports report the same series. `startedAt` is a performance.now() reading from before the handler.
 */
export function recordJobRun(type: string, outcome: JobOutcome, startedAt: number): void {
  jobsProcessed.inc({ type, outcome });
  jobDuration.observe({ type }, (performance.now() - startedAt) / 1000);
}
