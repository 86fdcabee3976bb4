import { prepared, type Queryable } from '../../platform/db/index.js';
import { outboxInsert } from '../../platform/jobs/outbox.js';

export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'refunded';

export interface PaymentRow {
  id: number;
  order_id: number;
  payment_method: 'card';
  amount: string;
  status: PaymentStatus;
  provider_reference: string | null;
  failure_reason: string | null;
}

const COLUMNS =
  'id, order_id, payment_method, amount::text AS amount, status, provider_reference, failure_reason';

/**
 * A pending payment and, in the same statement, the job that captures it: the job's payload is the one given
 * plus the new payment's id (`payment_id`). That payload holds the payment token, so the statement is secret:
 * its parameters always go bound, never written into a message's text (db/prepared.ts).
 */
const INSERT_PAYMENT = prepared(
  `WITH p AS (
     INSERT INTO payments (order_id, payment_method, amount) VALUES ($1, $2, $3) RETURNING ${COLUMNS}
   ), job AS (
     ${outboxInsert({ from: 'p', type: '$4', payload: "$5::jsonb || jsonb_build_object('payment_id', p.id)" })}
   )
   SELECT p.* FROM p, job`,
  { secret: true },
);

export async function insertPayment(
  tx: Queryable,
  orderId: number,
  method: 'card',
  amount: string,
  capture: { type: string; payload: Record<string, unknown> },
): Promise<PaymentRow> {
  const { rows } = await tx.query<PaymentRow>(INSERT_PAYMENT, [
    orderId,
    method,
    amount,
    capture.type,
    JSON.stringify(capture.payload),
  ]);
  return rows[0] as PaymentRow;
}

export async function findPayment(db: Queryable, id: number, lock = false): Promise<PaymentRow | undefined> {
  const { rows } = await db.query<PaymentRow>(
    prepared(`SELECT ${COLUMNS} FROM payments WHERE id = $1${lock ? ' FOR UPDATE' : ''}`),
    [id],
  );
  return rows[0];
}

export async function findPaymentOfOrder(
  db: Queryable,
  orderId: number,
  lock = false,
): Promise<PaymentRow | undefined> {
  const { rows } = await db.query<PaymentRow>(
    prepared(`SELECT ${COLUMNS} FROM payments WHERE order_id = $1${lock ? ' FOR UPDATE' : ''}`),
    [orderId],
  );
  return rows[0];
}

/** Moves a payment from one status to another; false when it was no longer in `from` (already settled). */
export async function transition(
  tx: Queryable,
  id: number,
  from: PaymentStatus,
  to: PaymentStatus,
  fields: { reference?: string; failureReason?: string } = {},
): Promise<boolean> {
  const { rowCount } = await tx.query(
    prepared(`UPDATE payments
        SET status = $3, provider_reference = coalesce($4, provider_reference),
            failure_reason = coalesce($5, failure_reason), updated_at = now()
      WHERE id = $1 AND status = $2`),
    [id, from, to, fields.reference ?? null, fields.failureReason ?? null],
  );
  return rowCount === 1;
}
