import type { Logger } from 'pino';
import type { Database } from '../db/index.js';
import { recordJobRun } from './job-metrics.js';
import { type ClaimedJob, claimDueJobs, JOBS_CHANNEL, markFailed } from './outbox.js';
import { type JobRegistry, PermanentJobError } from './registry.js';
import { createWakeup } from './wakeup.js';

/**
 * The in-process transport: claims due outbox rows and runs their handlers in this process. It sleeps until a
 * NOTIFY on JOBS_CHANNEL (sent at the commit of every enqueue), a job of its own finishing, or the idle poll
 * (at most one claim query per idlePollMs, which also picks up retries whose backoff ended and the jobs of a
 * runner that died: their lease `locked_until` expires and they are claimed again). A finished job is marked
 * done by the next claim (it travels with it: one round trip per job fewer): within minClaimGapMs of its finish,
 * or after a claim already in flight, or, when claims fail, by the first that succeeds; or by stop(). A runner
 * that dies in between leaves it running until its lease expires, and it runs again, as a job whose runner died
 * mid-run does: handlers are idempotent. So `bazaar_jobs_total{outcome="done"}` counts at least once: a job run
 * again after a lost mark counts again.
 */
export interface RunnerOptions {
  db: Database;
  registry: JobRegistry;
  logger: Logger;
  /**
   * Jobs run at the same time in this process (default 16, on the database's background pool of 8): a job
   * spends much of its time waiting on round trips, the payment provider or the mail server, so more jobs than
   * connections keep them busy. With 4, the captures and mails of 1,260 orders took 11.6 s to drain after a
   * checkout burst; with 16, 3.8 s (bench/checkout.ts).
   */
  concurrency?: number;
  /** How long a claimed job stays ours; a runner that dies leaves it to others after this. */
  leaseMs?: number;
  idlePollMs?: number;
  /** The least time between two claims when notifications come faster (default 20 ms, wakeup.ts). */
  minClaimGapMs?: number;
  /** Retry n waits about baseMs * 2^(n-1), capped at maxMs, with jitter. */
  backoff?: { baseMs: number; maxMs: number };
}

export interface JobRunner {
  /** Claim now rather than at the next notification or poll. */
  wake(): void;
  /** Stops claiming and waits for the jobs in flight. */
  stop(): Promise<void>;
}

export function retryDelayMs(attempt: number, backoff: { baseMs: number; maxMs: number }): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt - 1, 30));
  // Jitter spreads retries of jobs that failed together (a provider outage) so they do not return together.
  return Math.round(exponential * (0.5 + Math.random() / 2));
}

export async function startJobRunner(options: RunnerOptions): Promise<JobRunner> {
  const { registry, logger } = options;
  // The claims and the settling of jobs on the database's background pool; the handlers' own statements go
  // there too, since app.ts builds the services they call on db.background.
  const db = options.db.background;
  const concurrency = options.concurrency ?? 16;
  const leaseMs = options.leaseMs ?? 60_000;
  const idlePollMs = options.idlePollMs ?? 1_000;
  const backoff = options.backoff ?? { baseMs: 1_000, maxMs: 10 * 60_000 };
  const types = registry.types();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  const wakeup = createWakeup(options.minClaimGapMs ?? 20);
  const wake = () => wakeup.wake();
  /** Jobs finished since the last claim, which marks them done (claimDueJobs). */
  let finished: ClaimedJob[] = [];

  /** Marks the finished jobs done and claims up to limit more; a failed claim keeps them for the next. */
  async function settleAndClaim(limit: number): Promise<ClaimedJob[]> {
    const settling = finished;
    finished = [];
    try {
      return await claimDueJobs(db, types, limit, leaseMs, settling);
    } catch (error) {
      finished = settling.concat(finished);
      throw error;
    }
  }

  async function run(job: ClaimedJob): Promise<void> {
    const definition = registry.definition(job.type);
    const log = logger.child({ job: job.id, type: job.type, attempt: job.attempts });
    const startedAt = performance.now();
    try {
      if (!definition) throw new PermanentJobError(`No handler for job type ${job.type}`);
      await definition.run(job.payload, { id: job.id, attempt: job.attempts });
      finished.push(job);
      recordJobRun(job.type, 'done', startedAt);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const last = error instanceof PermanentJobError || job.attempts >= (definition?.maxAttempts ?? 1);
      const retryIn = last ? null : retryDelayMs(job.attempts, backoff);
      recordJobRun(job.type, last ? 'failed' : 'retried', startedAt);
      if (last) log.error({ err: error }, 'job failed for good: dead');
      else log.warn({ err: error, retry_in_ms: retryIn }, 'job failed: will retry');
      await markFailed(db, job, message, retryIn).catch((markError) =>
        log.error({ err: markError }, 'could not record the failure; the lease will expire'),
      );
    }
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      wakeup.begin();
      const free = types.length > 0 ? concurrency - inFlight.size : 0;
      let claimed: ClaimedJob[] = [];
      if (free > 0 || finished.length > 0) {
        try {
          claimed = await settleAndClaim(free);
        } catch (error) {
          logger.error({ err: error }, 'claiming jobs (and marking finished ones done) failed');
        }
      }
      for (const job of claimed) {
        const running = run(job).finally(() => {
          inFlight.delete(running);
          wake();
        });
        inFlight.add(running);
      }
      // Fewer jobs than free slots means nothing else is due; all slots busy means wait for one to finish.
      await wakeup.sleep(idlePollMs);
    }
  }

  const timers = registry.periodicTasks().map((task) =>
    setInterval(() => {
      task
        .run()
        .catch((error: unknown) => logger.error({ err: error, task: task.name }, 'periodic task failed'));
    }, task.everyMs).unref(),
  );
  const unlisten = await db.listen(JOBS_CHANNEL, wake);
  const looping = loop();

  return {
    wake,
    async stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      wake();
      await looping;
      // Marked at once, then as the jobs still running end: a slow one (a hung provider) must not keep the
      // finished ones unmarked, to run again should the process be killed before it ends.
      const settleFinished = async () => {
        if (finished.length === 0) return;
        await settleAndClaim(0).catch((error: unknown) =>
          logger.error(
            { err: error },
            'could not mark finished jobs done; they run again when their lease expires',
          ),
        );
      };
      await settleFinished();
      await Promise.allSettled([...inFlight].map((running) => running.then(settleFinished)));
      await settleFinished();
      await unlisten();
    },
  };
}
