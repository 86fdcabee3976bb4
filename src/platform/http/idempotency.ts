import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../db/index.js';
import { AppError, problemOf } from './errors.js';

/**
 * Idempotency-Key, with Stripe's contract, per user. The key row is inserted in the same transaction as the
 * work and updated with the answer before commit, so a committed key always carries its answer:
 * - a concurrent request with the same key blocks on the key's unique index until the first commits, then
 *   replays its answer (it waits; it never gets "in progress", and never makes a second order);
 * - an answer is stored for every outcome the work reached (2xx and 4xx: a short-stock 409 is replayed too);
 *   a 5xx rolls everything back, key included, so the client may retry it;
 * - the same key with another request (method, route or body) is a 409 idempotency_mismatch.
 * Keys are kept at least 24 hours (purgeIdempotencyKeys).
 */
export const IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9_.:-]{1,255}$';
export const IDEMPOTENCY_KEY_HOURS = 24;

export interface IdempotentRequest {
  userId: number;
  key: string;
  /** Everything that makes two requests "the same": method, route, body. */
  fingerprint: unknown;
  requestId: string;
}

export interface IdempotentAnswer {
  status: number;
  body: unknown;
  replayed: boolean;
}

function hashOf(fingerprint: unknown): string {
  return createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex');
}

export async function runIdempotent(
  db: Database,
  request: IdempotentRequest,
  work: (tx: Queryable) => Promise<{ status: number; body: unknown }>,
): Promise<IdempotentAnswer> {
  const requestHash = hashOf(request.fingerprint);
  return db.transaction(async (tx) => {
    const claimed = await tx.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, key) DO NOTHING`,
      [request.userId, request.key, requestHash],
    );
    if (claimed.rowCount === 0) return replay(tx, request, requestHash);

    await tx.query('SAVEPOINT idempotent_work');
    let answer: { status: number; body: unknown };
    try {
      // The stored body is JSON; the first answer goes through the same round trip so the two are identical.
      const result = await work(tx);
      answer = { status: result.status, body: JSON.parse(JSON.stringify(result.body)) };
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      // The work's writes are undone; the key keeps the answer.
      await tx.query('ROLLBACK TO SAVEPOINT idempotent_work');
      answer = {
        status: error.status,
        body: { ...problemOf(error.code, error.detail, error.errors), request_id: request.requestId },
      };
    }
    await tx.query(
      `UPDATE idempotency_keys SET status_code = $3, response_body = $4 WHERE user_id = $1 AND key = $2`,
      [request.userId, request.key, answer.status, JSON.stringify(answer.body)],
    );
    return { ...answer, replayed: false };
  });
}

async function replay(
  tx: Queryable,
  request: IdempotentRequest,
  requestHash: string,
): Promise<IdempotentAnswer> {
  const { rows } = await tx.query<{
    request_hash: string;
    status_code: number | null;
    response_body: unknown;
  }>(
    'SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2',
    [request.userId, request.key],
  );
  const stored = rows[0];
  if (stored && stored.request_hash !== requestHash) {
    throw new AppError(
      'idempotency_mismatch',
      'This Idempotency-Key was already used with a different request; use a new key for a new request',
    );
  }
  if (!stored || stored.status_code === null) {
    throw new AppError(
      'idempotency_in_progress',
      'A request with this Idempotency-Key is still running',
      undefined,
      {
        'retry-after': '1',
      },
    );
  }
  return { status: stored.status_code, body: stored.response_body, replayed: true };
}

/** Deletes keys older than the retention; run periodically. */
export async function purgeIdempotencyKeys(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys WHERE created_at < now() - $1 * interval '1 hour'`,
    [IDEMPOTENCY_KEY_HOURS],
  );
  return rowCount;
}
