import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, get } from '../api';
import { Link } from '../router';
import type { Order, Page } from '../types';
import {
  asApiError,
  ErrorNote,
  formatDate,
  Loading,
  Money,
  PageTitle,
  StatusBadge,
  useLoad,
  useUser,
} from '../ui';

const POLL_MS = 1_000;

export function OrdersPage() {
  const user = useUser();
  const orders = useLoad(user ? `orders-${user.id}` : null, () => get<Page<Order>>('/api/orders/?limit=50'));
  if (!user)
    return (
      <p>
        <Link href="/login?next=/orders">Log in</Link> to see your orders.
      </p>
    );
  return (
    <section>
      <PageTitle title="Your orders" />
      <ErrorNote error={orders.error} />
      {orders.loading && !orders.data && <Loading label="Loading your orders" />}
      {orders.data && orders.data.items.length === 0 && <p>No orders yet.</p>}
      <ul class="rows">
        {orders.data?.items.map((order) => (
          <li key={order.id}>
            <Link href={`/orders/${order.id}`}>Order #{order.id}</Link>{' '}
            <StatusBadge status={order.order_status} /> <Money amount={order.total_amount} /> ·{' '}
            <time dateTime={order.created_at}>{formatDate(order.created_at)}</time>
          </li>
        ))}
      </ul>
    </section>
  );
}

function paymentNote(order: Order): string | null {
  const payment = order.payment;
  if (!payment) return null;
  if (payment.status === 'failed')
    return `The payment was declined${payment.failure_reason ? ` (${payment.failure_reason})` : ''}; the order is canceled and nothing was charged.`;
  if (payment.status === 'pending') return 'Waiting for the card payment…';
  if (payment.status === 'refunded') return 'The payment was refunded.';
  return 'Payment received.';
}

/** One order, refreshed every second while its payment is pending, so the shopper sees it become paid. */
export function OrderPage({ id }: { id: number }) {
  const user = useUser();
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [round, setRound] = useState(0);

  useEffect(() => {
    if (!user) return;
    let live = true;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const next = await get<Order>(`/api/orders/${id}/`);
        if (!live) return;
        setOrder(next);
        setError(null);
        if (next.order_status === 'pending') timer = window.setTimeout(poll, POLL_MS);
      } catch (failure) {
        if (live) setError(asApiError(failure));
      }
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id, user?.id, round]);

  const cancel = async () => {
    try {
      setOrder(await api<Order>('POST', `/api/orders/${id}/cancel/`));
      setRound((n) => n + 1);
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  if (!user)
    return (
      <p>
        <Link href={`/login?next=/orders/${id}`}>Log in</Link> to see this order.
      </p>
    );
  if (!order) return error ? <ErrorNote error={error} /> : <Loading label="Loading the order" />;
  const note = paymentNote(order);
  return (
    <section>
      <PageTitle title={`Order #${order.id}`} />
      <p aria-live="polite" class="order-status">
        Status: <StatusBadge status={order.order_status} />
      </p>
      {note && (
        <p class={`note ${order.payment?.status === 'failed' ? 'error' : 'ok'}`} role="status">
          {note}
        </p>
      )}
      <ErrorNote error={error} />
      <ul class="summary">
        {order.items?.map((item) => (
          <li key={item.product_id}>
            {item.quantity} × <Link href={`/products/${item.product_id}`}>{item.product_name}</Link> at{' '}
            <Money amount={item.price} />
          </li>
        ))}
      </ul>
      <p class="total">
        Total: <Money amount={order.total_amount} />
      </p>
      {(order.order_status === 'pending' || order.order_status === 'paid') && (
        <button type="button" class="secondary" onClick={cancel}>
          Cancel this order
        </button>
      )}
      <p>
        <Link href="/orders">All your orders</Link>
      </p>
    </section>
  );
}
