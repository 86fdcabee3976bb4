import type { Database } from '../../platform/db/index.js';
import { type AuthUser, hasRole } from '../../platform/http/auth.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { AppError } from '../../platform/http/errors.js';
import { runIdempotent } from '../../platform/http/idempotency.js';
import { lineTotal, sumAmounts } from '../../platform/money.js';
import { addRevenue, ordersPlaced } from '../../platform/observability/metrics.js';
import type { CartService } from '../cart/service.js';
import { restock, type ShortLine, takeStock } from '../catalog/stock.js';
import type { PaymentRow, PaymentsService } from '../payments/service.js';
import * as repo from './repo.js';
import { assertTransition, type OrderStatus } from './state.js';

export const CAPTURE_JOB = 'payment.capture';

export interface Checkout {
  payment_method: 'card';
  payment_token: string;
}

export function presentOrder(order: repo.OrderRow, payment: PaymentRow | undefined) {
  return {
    ...order,
    items: order.items.map((item) => ({ ...item, line_total: lineTotal(item.price, item.quantity) })),
    payment: payment
      ? {
          id: payment.id,
          status: payment.status,
          amount: payment.amount,
          payment_method: payment.payment_method,
        }
      : null,
  };
}

function shortStock(short: ShortLine[]): AppError {
  return new AppError(
    'insufficient_stock',
    'Not enough stock for every line of the cart; nothing was ordered',
    short.map((line) => ({
      path: `cart.items[product_id=${line.productId}]`,
      message: `requested ${line.requested}, available ${line.available}`,
      product_id: line.productId,
      requested: line.requested,
      available: line.available,
    })),
  );
}

/** Tells the catalog that stock moved, after the commit, so cached product answers are dropped. */
export type StockChanged = (productIds: readonly number[]) => Promise<void>;

export function createOrdersService(deps: {
  db: Database;
  cart: CartService;
  payments: PaymentsService;
  stockChanged: StockChanged;
}) {
  const { db, cart, payments, stockChanged } = deps;

  async function detail(id: number) {
    const order = await repo.findOrder(db, id);
    if (!order) throw new AppError('not_found', `Order ${id} does not exist`);
    return presentOrder(order, await payments.ofOrder(id));
  }

  return {
    /**
     * Checkout, in one transaction: the cart's lines taken out of the cart, the stock taken and priced (or short
     * and everything undone), the order at those prices, a pending payment with its capture job. The answer is
     * stored under the Idempotency-Key and replayed for the same request. Six statements between BEGIN and
     * COMMIT in five round trips on PostgreSQL: the cart's lines (with BEGIN); the stock locked; the stock's
     * decrement (deferred: Transaction.defer) and the order; the payment (its capture job holds the payment
     * token: bound, alone); the key (with COMMIT).
     */
    async placeOrder(user: AuthUser, checkout: Checkout, key: string, requestId: string) {
      const fingerprint = ['POST /api/orders/', checkout.payment_method, checkout.payment_token];
      let sold: number[] = [];
      const answer = await runIdempotent(db, { userId: user.id, key, fingerprint, requestId }, async (tx) => {
        sold = [];
        const lines = await cart.takeForCheckout(tx, user.id);
        if (lines.length === 0) throw new AppError('empty_cart', 'The cart is empty');
        // First, so the prices paid are those of the rows whose stock is taken; short stock undoes it all.
        const taken = await takeStock(tx, lines);
        if (!taken.ok) throw shortStock(taken.short);
        const total = sumAmounts(taken.lines.map((line) => lineTotal(line.price, line.quantity)));
        const order = await repo.insertOrder(tx, user.id, total, taken.lines);
        const payment = await payments.createPending(tx, order.id, checkout.payment_method, total, {
          type: CAPTURE_JOB,
          payload: { order_id: order.id, token: checkout.payment_token },
        });
        sold = lines.map((line) => line.productId);
        return { status: 201, body: presentOrder(order, payment) };
      });
      // Counted once committed, and only by the request that placed the order, never by a replay of it.
      if (answer.status === 201 && !answer.replayed) {
        ordersPlaced.inc();
        addRevenue((answer.body as { total_amount: string }).total_amount);
      }
      // Only a checkout that committed its own answer (not a replay, not a rolled-back one) moved stock.
      if (!answer.replayed && answer.status === 201 && sold.length > 0) await stockChanged(sold);
      return answer;
    },

    /** Own orders; a manager sees everyone's and may filter by user. Newest first, keyset paged. */
    async listOrders(
      viewer: AuthUser,
      query: { status?: OrderStatus; user_id?: number; limit: number; cursor?: string },
    ) {
      // Filters narrow the caller's view and never widen it: a customer asking for another user gets nothing.
      const scope = hasRole(viewer, 'manager') ? undefined : viewer.id;
      if (scope !== undefined && query.user_id !== undefined && query.user_id !== scope) {
        return { items: [], next_cursor: null };
      }
      const userId = scope ?? query.user_id;
      const before =
        query.cursor === undefined ? null : Number(decodeCursor(query.cursor, 'orders', ['int'])[0]);
      const rows = await repo.listOrders(db, { userId, status: query.status }, before, query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((order) => presentOrder(order, undefined)),
        next_cursor: rows.length > query.limit && last ? encodeCursor('orders', [last.id]) : null,
      };
    },

    /** Another user's order is a 404, as if it did not exist (managers see every order). */
    async getOrder(viewer: AuthUser, id: number) {
      const order = await detail(id);
      if (order.user_id !== viewer.id && !hasRole(viewer, 'manager')) {
        throw new AppError('not_found', `Order ${id} does not exist`);
      }
      return order;
    },

    /**
     * The owner cancels a pending or paid order: stock returns and a captured payment is refunded, once (the
     * order row is locked and the second cancel finds it canceled: a 409). A capture still in flight for a
     * pending order sees the cancel and records a failure, or refunds what it captured.
     */
    async cancelOrder(viewer: AuthUser, id: number) {
      const returned = await db.transaction(async (tx) => {
        const order = await repo.lockOrder(tx, id);
        if (!order || order.user_id !== viewer.id)
          throw new AppError('not_found', `Order ${id} does not exist`);
        assertTransition(order.order_status, 'canceled', 'owner');
        repo.setStatus(tx, id, 'canceled');
        const lines = await repo.orderLines(tx, id);
        await restock(tx, lines);
        const payment = await payments.lockOfOrder(tx, id);
        if (payment?.status === 'succeeded') await payments.requestRefund(tx, payment.id);
        return lines.map((line) => line.productId);
      });
      await stockChanged(returned);
      return detail(id);
    },

    /** A manager moves a paid order to shipped, then delivered. */
    async setStatus(id: number, status: OrderStatus) {
      await db.transaction(async (tx) => {
        const order = await repo.lockOrder(tx, id);
        if (!order) throw new AppError('not_found', `Order ${id} does not exist`);
        assertTransition(order.order_status, status, 'manager');
        repo.setStatus(tx, id, status);
      });
      return detail(id);
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
