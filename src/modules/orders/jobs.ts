import { Type } from '@sinclair/typebox';
import type { Database } from '../../platform/db/index.js';
import { enqueueDeferred } from '../../platform/jobs/outbox.js';
import type { JobRegistry } from '../../platform/jobs/registry.js';
import { sendMailOnce } from '../../platform/mail/mail-job.js';
import type { Mail, Mailer } from '../../platform/mail/mailer.js';
import { paymentFailures } from '../../platform/observability/metrics.js';
import { restock } from '../catalog/stock.js';
import type { CaptureResult } from '../payments/provider.js';
import type { PaymentsService } from '../payments/service.js';
import type { UsersService } from '../users/service.js';
import { confirmationMail, paymentFailedMail } from './emails.js';
import * as repo from './repo.js';
import type { StockChanged } from './service.js';
import { CAPTURE_JOB } from './service.js';
import { assertTransition } from './state.js';

export const CONFIRMATION_EMAIL_JOB = 'order.confirmation_email';
export const PAYMENT_FAILED_EMAIL_JOB = 'order.payment_failed_email';

const OrderJob = Type.Object({ order_id: Type.Integer() });

/**
 * The order's background work. Each handler is idempotent: it reads the current state and does only what is
 * still missing, so a rerun (crash, lease expiry, redelivery) changes nothing.
 */
export function registerOrderJobs(
  registry: JobRegistry,
  deps: {
    db: Database;
    payments: PaymentsService;
    users: UsersService;
    mailer: Mailer;
    stockChanged: StockChanged;
  },
): void {
  const { db, payments, users, mailer, stockChanged } = deps;

  registry.register(
    CAPTURE_JOB,
    Type.Object({ order_id: Type.Integer(), payment_id: Type.Integer(), token: Type.String() }),
    async ({ order_id, payment_id, token }, { lastAttempt }) => {
      const payment = await payments.find(payment_id);
      if (payment?.status !== 'pending') return;
      const current = await repo.findOrder(db, order_id);
      // The checkout told the cache about the stock it took right after its commit; this job was written in
      // that commit, so telling it again here makes the invalidation as durable as the order: a process that
      // died in between leaves stale stock no longer than this job takes to run. A second bump costs a miss.
      if (current) await stockChanged(current.items.map((item) => item.product_id));
      if (current?.order_status === 'canceled') {
        await db.transaction((tx) => payments.recordFailed(tx, payment_id, 'order_canceled'));
        return;
      }

      const result = await payments.capture(payment, token).catch((error: unknown): CaptureResult => {
        // No answer from the provider: the job retries, and each failed call is counted. After the last
        // attempt the payment has failed for good: the order is canceled and its stock returned, as for a
        // decline, rather than left pending with the stock held.
        paymentFailures.inc({ reason: 'error' });
        if (lastAttempt) return { status: 'declined', reason: 'provider_unavailable' };
        throw error;
      });

      let declined = false;
      const returned = await db.transaction(async (tx): Promise<number[]> => {
        const order = await repo.lockOrder(tx, order_id);
        if (!order) return [];
        if (result.status === 'succeeded') {
          if (!(await payments.recordCaptured(tx, payment_id, result.reference))) return [];
          if (order.order_status === 'pending') {
            assertTransition(order.order_status, 'paid', 'payment');
            // Both go with the COMMIT: one round trip.
            repo.setStatus(tx, order_id, 'paid');
            enqueueDeferred(tx, CONFIRMATION_EMAIL_JOB, { order_id });
          } else {
            // The owner canceled while the card was being charged: give the money back.
            await payments.requestRefund(tx, payment_id);
          }
          return [];
        }
        if (!(await payments.recordFailed(tx, payment_id, result.reason))) return [];
        declined = true;
        if (order.order_status !== 'pending') return [];
        assertTransition(order.order_status, 'canceled', 'payment');
        repo.setStatus(tx, order_id, 'canceled');
        const lines = await repo.orderLines(tx, order_id);
        await restock(tx, lines);
        enqueueDeferred(tx, PAYMENT_FAILED_EMAIL_JOB, { order_id });
        return lines.map((line) => line.productId);
      });
      // After the commit, and once per payment: a rerun finds it failed already and returns above.
      if (declined) paymentFailures.inc({ reason: 'declined' });
      if (returned.length > 0) await stockChanged(returned);
    },
  );

  // Keyed per order and kind: a redelivered job (RabbitMQ is at least once) finds the key and sends nothing.
  async function mailOrder(
    orderId: number,
    kind: 'confirmed' | 'payment-failed',
    build: (order: repo.OrderRow, to: string, name: string) => Mail,
  ) {
    const order = await repo.findOrder(db, orderId);
    if (!order) return;
    const user = await users.getUser(order.user_id);
    await sendMailOnce(
      db,
      mailer,
      `order-${orderId}-${kind}`,
      build(order, user.email, user.first_name || user.username),
    );
  }

  registry.register(CONFIRMATION_EMAIL_JOB, OrderJob, ({ order_id }) =>
    mailOrder(order_id, 'confirmed', confirmationMail),
  );
  registry.register(PAYMENT_FAILED_EMAIL_JOB, OrderJob, ({ order_id }) =>
    mailOrder(order_id, 'payment-failed', paymentFailedMail),
  );
}
