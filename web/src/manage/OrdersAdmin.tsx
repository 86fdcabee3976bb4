import { useState } from 'preact/hooks';
import { type ApiError, api, get, query } from '../api';
import { Link } from '../router';
import type { Order, Page } from '../types';
import {
  asApiError,
  ErrorNote,
  formatDate,
  Loading,
  Money,
  PageTitle,
  STATUS_LABELS,
  StatusBadge,
  useLoad,
} from '../ui';

/** The only moves a manager may make; everything else is the payment flow's or the customer's. */
const NEXT: Record<string, { to: string; label: string } | undefined> = {
  paid: { to: 'shipped', label: 'Mark shipped' },
  shipped: { to: 'delivered', label: 'Mark delivered' },
};

export function OrdersAdminPage({ status }: { status: string }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const apiQuery = query({ status, cursor, limit: 50 });
  const orders = useLoad(apiQuery, () => get<Page<Order>>(`/api/orders/${apiQuery}`));
  const [error, setError] = useState<ApiError | null>(null);

  const move = async (order: Order, to: string) => {
    setError(null);
    try {
      await api('PATCH', `/api/orders/${order.id}/`, { body: { order_status: to } });
      orders.reload();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  return (
    <section>
      <PageTitle title="Orders" />
      <nav aria-label="Order status">
        <ul class="inline tabs">
          {Object.entries(STATUS_LABELS).map(([value, label]) => (
            <li key={value}>
              <Link
                href={`/manage/orders?status=${value}`}
                aria-current={value === status ? 'page' : undefined}
                onClick={() => setCursor(null)}
              >
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <ErrorNote error={orders.error ?? error} />
      {orders.loading && !orders.data && <Loading label="Loading orders" />}
      {orders.data?.items.length === 0 && <p>No {STATUS_LABELS[status]?.toLowerCase() ?? status} orders.</p>}
      {orders.data && orders.data.items.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Customer</th>
              <th scope="col">Total</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.data.items.map((order) => {
              const next = NEXT[order.order_status];
              return (
                <tr key={order.id}>
                  <td>#{order.id}</td>
                  <td>{formatDate(order.created_at)}</td>
                  <td>{order.user_id ?? ''}</td>
                  <td>
                    <Money amount={order.total_amount} />
                  </td>
                  <td>
                    <StatusBadge status={order.order_status} />
                  </td>
                  <td>
                    {next && (
                      <button type="button" onClick={() => move(order, next.to)}>
                        {next.label}
                        <span class="visually-hidden"> order {order.id}</span>
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {orders.data?.next_cursor && (
        <button type="button" class="secondary" onClick={() => setCursor(orders.data?.next_cursor ?? null)}>
          Next page
        </button>
      )}
    </section>
  );
}
