import { createHash } from 'node:crypto';
import {
  type Database,
  PgErrorCode,
  pgConstraint,
  pgErrorCode,
  prepared,
  type Queryable,
  type Transaction,
} from '../db/index.js';
import { AppError, problemOf } from './errors.js';

/**
 * Idempotency-Key, with Stripe's contract, per user. The key row is written with its answer, last, in the
 * transaction of the work (one statement: no claim, no savepoint, no second write), so a committed key always
 * carries its answer and the work commits only with its key:
 * - when another request already holds the key, the insert finds it (waiting for that request's commit if it
 *   is still running), the work is rolled back, and the stored answer is replayed: a concurrent duplicate
 *   waits for the first answer, never gets "in progress", and never makes a second order (the work itself
 *   serialises on what it locks: a checkout on the cart's lines);
 * - an answer is stored for every outcome the work reached (2xx and 4xx: a short-stock 409 is replayed too);
 *   a 4xx undoes the work's writes and stores the answer on its own; a 5xx stores nothing, so the client may
 *   retry it;
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

/**
 * Thrown inside the transaction when the key is already taken: rolls the work back, then replays. It carries a
 * code, as SQL errors do: the database adapter destroys a connection whose transaction failed without one
 * (taken for a lost connection), and a replay must not cost a reconnect.
 */
class KeyTaken extends Error {
  readonly code = 'idempotency_key_taken';
}

/**
 * The answer stored as the work's last statement, committed with it (one round trip on PostgreSQL, see
 * db/piggyback.ts): a key already taken is a unique violation, so nothing commits and the work is replayed.
 */
const STORE_ANSWER_LAST = prepared(
  `INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body)
   VALUES ($1, $2, $3, $4, $5)`,
);

const STORE_ANSWER = prepared(
  `INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body)
   VALUES ($1, $2, $3, $4, $5)
   ON CONFLICT (user_id, key) DO NOTHING`,
);

/** The key's row, with the answer's body as the JSON text it is stored as. */
function answerRow(request: IdempotentRequest, requestHash: string, status: number, bodyJson: string) {
  return [request.userId, request.key, requestHash, status, bodyJson];
}

/** Stores the answer's row under the key; false when the key was already taken (by a committed request). */
async function storeAnswer(db: Queryable, row: unknown[]): Promise<boolean> {
  const { rowCount } = await db.query(STORE_ANSWER, row);
  return rowCount === 1;
}

/** Stores the answer's row and commits the work with it; KeyTaken when another request holds the key. */
async function commitAnswer(tx: Transaction, row: unknown[]): Promise<void> {
  try {
    await tx.queryAndCommit(STORE_ANSWER_LAST, row);
  } catch (error) {
    if (pgErrorCode(error) === PgErrorCode.uniqueViolation && pgConstraint(error) === 'idempotency_keys_pkey')
      throw new KeyTaken();
    throw error;
  }
}

export async function runIdempotent(
  db: Database,
  request: IdempotentRequest,
  work: (tx: Transaction) => Promise<{ status: number; body: unknown }>,
): Promise<IdempotentAnswer> {
  const requestHash = hashOf(request.fingerprint);
  try {
    return await db.transaction(async (tx) => {
      const result = await work(tx);
      // The stored body is JSON; the first answer is parsed back from the text stored, so the two are identical.
      const bodyJson = JSON.stringify(result.body);
      const answer = { status: result.status, body: JSON.parse(bodyJson) as unknown };
      await commitAnswer(tx, answerRow(request, requestHash, answer.status, bodyJson));
      return { ...answer, replayed: false };
    });
  } catch (error) {
    if (error instanceof KeyTaken) return replay(db, request, requestHash);
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    // The work's writes were rolled back with its transaction; the key keeps the answer.
    const answer = {
      status: error.status,
      body: { ...problemOf(error.code, error.detail, error.errors), request_id: request.requestId },
    };
    const row = answerRow(request, requestHash, answer.status, JSON.stringify(answer.body));
    if (!(await storeAnswer(db, row))) return replay(db, request, requestHash);
    return { ...answer, replayed: false };
  }
}

async function replay(
  db: Queryable,
  request: IdempotentRequest,
  requestHash: string,
): Promise<IdempotentAnswer> {
  const { rows } = await db.query<{
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
