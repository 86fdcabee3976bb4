import type { Queryable } from '../db/index.js';

/**
 * How code queues a side effect: one outbox row written with the caller's transaction, so the job exists if
 * and only if the change that caused it committed. The relay (AMQP_URL) or the in-process runner runs it.
 */
export interface JobQueue {
  enqueue(tx: Queryable, type: string, payload: object): Promise<number>;
}

export const outboxQueue: JobQueue = {
  async enqueue(tx, type, payload) {
    const { rows } = await tx.query<{ id: number }>(
      'INSERT INTO outbox_jobs (type, payload) VALUES ($1, $2) RETURNING id',
      [type, JSON.stringify(payload)],
    );
    return (rows[0] as { id: number }).id;
  },
};
