/** What every job handler sees, whichever transport (RabbitMQ worker or in-process runner) runs it. */
export interface JobContext {
  /** The outbox row's id: the same on every delivery of this job, so handlers can use it as an idempotency key. */
  id: number;
  type: string;
  /** 1 on the first run, 2 on the first retry, ... */
  attempt: number;
}

/** Runs one job and resolves once its effect is committed; throwing asks for a retry. Must be idempotent. */
export type JobHandler = (payload: unknown, job: JobContext) => Promise<void>;

/** A failure no retry can fix (malformed payload, missing row): the job goes straight to the dead letters. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}
