import type { Queryable } from '../db/index.js';

/** Notified at the commit of every transaction that queued a job: wakes relays and runners. */
export const JOBS_CHANNEL = 'bazaar_jobs';

/**
 * How code queues a side effect: one outbox row written with the caller's transaction, so the job exists if
 * and only if the change that caused it committed. The relay (AMQP_URL) or the in-process runner runs it.
 */
export interface JobQueue {
  enqueue(tx: Queryable, type: string, payload: Record<string, unknown>): Promise<number>;
}

export const outboxQueue: JobQueue = {
  async enqueue(tx, type, payload) {
    const { rows } = await tx.query<{ id: number }>(
      `WITH job AS (INSERT INTO outbox_jobs (type, payload) VALUES ($1, $2) RETURNING id)
       SELECT id, pg_notify($3, $1) FROM job`,
      [type, JSON.stringify(payload), JOBS_CHANNEL],
    );
    return (rows[0] as { id: number }).id;
  },
};
