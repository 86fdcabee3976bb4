import type { Logger } from 'pino';
import type { Database } from '../../db/index.js';
import { JOBS_CHANNEL } from '../outbox.js';
import { createWakeup } from '../wakeup.js';
import type { JobEnvelope } from './envelope.js';
import type { Publisher } from './publisher.js';

export interface RelayOptions {
  db: Database;
  publisher: Publisher;
  logger: Logger;
  /** Rows claimed per round trip. */
  batchSize?: number;
  /** Longest sleep without a notification: an idle relay makes one query per this interval. */
  idleMs?: number;
  /** The least time between two rounds when notifications come faster (default 20 ms, wakeup.ts). */
  minRoundGapMs?: number;
  /** How long a claimed row stays invisible to other relays while it is being published. */
  leaseSeconds?: number;
}

export interface Relay {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Moves due outbox rows to RabbitMQ. A round claims up to `batchSize` rows with one statement (a short lease
 * in `locked_until`, SKIP LOCKED, so several API processes can relay side by side), publishes them with
 * confirms, and marks `published` only the rows the broker confirmed; the others are released for the next
 * round. A crash between confirm and mark republishes a row: delivery is at least once, handlers idempotent.
 * Rounds run back to back while there is work; then the relay sleeps until NOTIFY or `idleMs`.
 */
export function createOutboxRelay(options: RelayOptions): Relay {
  const { publisher, logger } = options;
  // On the background pool: the relay keeps pace however busy the requests keep the main one.
  const db = options.db.background;
  const batchSize = options.batchSize ?? 500;
  const idleMs = options.idleMs ?? 1_000;
  const leaseSeconds = options.leaseSeconds ?? 60;
  let stopped = false;
  const wakeup = createWakeup(options.minRoundGapMs ?? 20);
  let unlisten: (() => Promise<void>) | null = null;
  let loop: Promise<void> | null = null;

  // Backing off from a broker or database outage ignores notifications: each new order would cut it short.
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  const notify = () => wakeup.wake();

  async function round(): Promise<{ claimed: number; failed: number }> {
    const { rows } = await db.query<JobEnvelope>(
      `UPDATE outbox_jobs SET locked_until = now() + make_interval(secs => $2)
        WHERE id IN (SELECT id FROM outbox_jobs
                      WHERE status = 'pending' AND run_at <= now()
                        AND (locked_until IS NULL OR locked_until < now())
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, type, payload`,
      [batchSize, leaseSeconds],
    );
    if (rows.length === 0) return { claimed: 0, failed: 0 };
    const results = await Promise.allSettled(rows.map((job) => publisher.publish(job)));
    const published = rows.filter((_, index) => results[index]?.status === 'fulfilled').map((job) => job.id);
    const failed = rows.filter((_, index) => results[index]?.status === 'rejected').map((job) => job.id);
    if (published.length > 0) {
      await db.query(
        `UPDATE outbox_jobs SET status = 'published', locked_until = NULL, updated_at = now()
          WHERE id = ANY($1::bigint[])`,
        [published],
      );
    }
    if (failed.length > 0) {
      const reason = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
      logger.warn({ failed: failed.length, err: reason.reason }, 'outbox relay: broker did not confirm');
      await db.query('UPDATE outbox_jobs SET locked_until = NULL WHERE id = ANY($1::bigint[])', [failed]);
    }
    return { claimed: rows.length, failed: failed.length };
  }

  async function run() {
    let backoff = 0;
    while (!stopped) {
      try {
        wakeup.begin();
        const { claimed, failed } = await round();
        backoff = failed > 0 ? Math.min(Math.max(backoff * 2, 200), 5_000) : 0;
        if (backoff > 0) await pause(backoff);
        else if (claimed < batchSize) await wakeup.sleep(idleMs);
      } catch (error) {
        backoff = Math.min(Math.max(backoff * 2, 200), 5_000);
        logger.warn({ err: error }, 'outbox relay round failed');
        await pause(backoff);
      }
    }
  }

  return {
    async start() {
      unlisten = await db.listen(JOBS_CHANNEL, notify);
      loop = run();
    },
    async stop() {
      stopped = true;
      wakeup.wake();
      await loop;
      await unlisten?.().catch(() => {});
    },
  };
}
