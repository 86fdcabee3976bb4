import { prepared, type Queryable, type Transaction } from '../db/index.js';

/**
 * The transactional outbox: a side effect is an `outbox_jobs` row written in the transaction that caused it,
 * so it exists if and only if that transaction committed. The NOTIFY is delivered at commit and wakes every
 * runner listening on JOBS_CHANNEL; a rolled-back transaction neither writes the row nor notifies.
 */
export const JOBS_CHANNEL = 'bazaar_jobs';

export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
}

export async function enqueue(
  tx: Queryable,
  type: string,
  payload: Record<string, unknown>,
  options: EnqueueOptions = {},
): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(ENQUEUE, [
    type,
    JSON.stringify(payload),
    options.delayMs ?? 0,
  ]);
  return (rows[0] as { id: number }).id;
}

/**
 * enqueue for a work that does not need the job's id: the row is sent with the transaction's next statement or
 * its COMMIT (Transaction.defer), one round trip fewer; its failure fails the transaction.
 */
export function enqueueDeferred(
  tx: Transaction,
  type: string,
  payload: Record<string, unknown>,
  options: EnqueueOptions = {},
): void {
  void tx.defer(ENQUEUE, [type, JSON.stringify(payload), options.delayMs ?? 0]);
}

/**
 * The outbox's insert as the body of a CTE in a caller's statement, so that a write and the job it causes cost
 * one round trip: one job for each row of `from` (a CTE of that statement; none: one job), of type `type`,
 * with `payload` (SQL expressions over that row; the payload a jsonb) and, if given, `runAt`. Each job is
 * announced on JOBS_CHANNEL at commit; the CTE returns each job's id.
 */
export function outboxInsert(job: { from?: string; type: string; payload: string; runAt?: string }): string {
  return `INSERT INTO outbox_jobs (type, payload, run_at)
     SELECT ${job.type}, ${job.payload}, ${job.runAt ?? 'now()'}${job.from === undefined ? '' : ` FROM ${job.from}`}
     RETURNING id, pg_notify('${JOBS_CHANNEL}', type)`;
}

const ENQUEUE = prepared(
  `WITH job AS (
     ${outboxInsert({ type: '$1', payload: '$2::jsonb', runAt: "now() + $3 * interval '1 millisecond'" })}
   )
   SELECT id FROM job`,
);

export interface ClaimedJob {
  id: number;
  type: string;
  payload: unknown;
  /** 1 on the first run; also the fencing token: only the holder of this attempt may settle the job. */
  attempts: number;
}

/**
 * Marks `done` (jobs this runner finished since its last claim) as done, then claims up to `limit` due jobs of
 * the given types: pending ones whose run_at has come, and running ones whose lease expired (their runner
 * died). One statement, settle_and_claim_jobs (migrations/071), so a finished job costs no round trip of its
 * own; the claim itself is claim_due_jobs (migrations/070), which walks the due index in order with bitmap
 * scans off, and SKIP LOCKED lets many runners claim side by side without waiting. A mark matches the attempt
 * that ran (the fencing token): a job claimed again since (its lease expired) is left to its new holder.
 */
export async function claimDueJobs(
  db: Queryable,
  types: readonly string[],
  limit: number,
  leaseMs: number,
  done: readonly ClaimedJob[] = [],
): Promise<ClaimedJob[]> {
  const { rows } = await db.query<ClaimedJob>(
    prepared(`SELECT id, type, payload, attempts
                FROM settle_and_claim_jobs($1::bigint[], $2::int[], $3::text[], $4, $5)`),
    [done.map((job) => job.id), done.map((job) => job.attempts), types, limit, leaseMs],
  );
  return rows;
}

/** A failed attempt: back to pending after retryInMs, or dead when it was the last allowed attempt. */
export async function markFailed(
  db: Queryable,
  job: ClaimedJob,
  error: string,
  retryInMs: number | null,
): Promise<void> {
  await db.query(
    prepared(`UPDATE outbox_jobs
        SET status = CASE WHEN $3::bigint IS NULL THEN 'dead' ELSE 'pending' END,
            run_at = CASE WHEN $3::bigint IS NULL THEN run_at ELSE now() + $3 * interval '1 millisecond' END,
            locked_until = NULL, last_error = $4, updated_at = now()
      WHERE id = $1 AND attempts = $2 AND status = 'running'`),
    [job.id, job.attempts, retryInMs, error.slice(0, 2000)],
  );
}

export interface DeadJob {
  id: number;
  type: string;
  payload: unknown;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function listDeadJobs(
  db: Queryable,
  beforeId: number | null,
  limit: number,
): Promise<DeadJob[]> {
  const { rows } = await db.query<DeadJob>(
    `SELECT id, type, payload, attempts, last_error, created_at, updated_at
       FROM outbox_jobs
      WHERE status = 'dead' AND ($1::bigint IS NULL OR id < $1)
      ORDER BY id DESC
      LIMIT $2`,
    [beforeId, limit],
  );
  return rows;
}

/** Finished jobs (run here, or handed to RabbitMQ) are kept a week for inspection, then deleted. */
export async function purgeFinishedJobs(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM outbox_jobs WHERE status IN ('done', 'published') AND updated_at < now() - interval '7 days'`,
  );
  return rowCount;
}
