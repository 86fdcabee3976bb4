import { Type } from '@sinclair/typebox';
import type { Database, Queryable } from '../../platform/db/index.js';
import { enqueue } from '../../platform/jobs/outbox.js';
import type { JobRegistry } from '../../platform/jobs/registry.js';
import type { CaptureResult, PaymentProvider } from './provider.js';
import * as repo from './repo.js';

export type { PaymentRow, PaymentStatus } from './repo.js';

export const REFUND_JOB = 'payment.refund';

/**
 * Payments: the rows and the provider calls. The payment's id is the provider idempotency key, so a capture
 * or refund retried after a crash or a timeout moves money once. Which order state follows a capture is the
 * orders module's business; this module only records what the provider said.
 */
export function createPaymentsService({ db, provider }: { db: Database; provider: PaymentProvider }) {
  return {
    /**
     * A pending payment and the job that will capture it, written together (one statement): the job's payload
     * is `capture.payload` plus the payment's id as `payment_id`.
     */
    createPending(
      tx: Queryable,
      orderId: number,
      method: 'card',
      amount: string,
      capture: { type: string; payload: Record<string, unknown> },
    ): Promise<repo.PaymentRow> {
      return repo.insertPayment(tx, orderId, method, amount, capture);
    },

    find(id: number): Promise<repo.PaymentRow | undefined> {
      return repo.findPayment(db, id);
    },

    lock(tx: Queryable, id: number): Promise<repo.PaymentRow | undefined> {
      return repo.findPayment(tx, id, true);
    },

    ofOrder(orderId: number): Promise<repo.PaymentRow | undefined> {
      return repo.findPaymentOfOrder(db, orderId);
    },

    lockOfOrder(tx: Queryable, orderId: number): Promise<repo.PaymentRow | undefined> {
      return repo.findPaymentOfOrder(tx, orderId, true);
    },

    /** Calls the provider; a TransientPaymentError propagates so the job retries with the same key. */
    capture(payment: repo.PaymentRow, token: string): Promise<CaptureResult> {
      return provider.authorizeAndCapture({
        idempotencyKey: `payment-${payment.id}`,
        amount: payment.amount,
        token,
      });
    },

    recordCaptured(tx: Queryable, id: number, reference: string): Promise<boolean> {
      return repo.transition(tx, id, 'pending', 'succeeded', { reference });
    },

    recordFailed(tx: Queryable, id: number, reason: string): Promise<boolean> {
      return repo.transition(tx, id, 'pending', 'failed', { failureReason: reason });
    },

    /** Queues the refund of a captured payment, in the caller's transaction. */
    async requestRefund(tx: Queryable, id: number): Promise<void> {
      await enqueue(tx, REFUND_JOB, { payment_id: id });
    },

    registerJobs(registry: JobRegistry): void {
      registry.register(REFUND_JOB, Type.Object({ payment_id: Type.Integer() }), async ({ payment_id }) => {
        const payment = await repo.findPayment(db, payment_id);
        // Refunded already (a rerun), or never captured: nothing to give back.
        if (payment?.status !== 'succeeded' || payment.provider_reference === null) return;
        await provider.refund({
          idempotencyKey: `refund-${payment.id}`,
          amount: payment.amount,
          reference: payment.provider_reference,
        });
        await db.transaction((tx) => repo.transition(tx, payment.id, 'succeeded', 'refunded'));
      });
    },
  };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
