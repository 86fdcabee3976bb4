import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, newIdempotencyKey } from '../api';
import { Link, navigate } from '../router';
import type { Order } from '../types';
import { asApiError, ErrorNote, Loading, Money, PageTitle, useUser } from '../ui';
import { refreshCart, removeItem, setQuantity, useCart } from './cart-store';

function SignInFirst({ what }: { what: string }) {
  return (
    <section>
      <PageTitle title={what} />
      <p>
        <Link href={`/login?next=${encodeURIComponent(window.location.pathname)}`}>Log in</Link> or{' '}
        <Link href="/register">create an account</Link> to see your {what.toLowerCase()}.
      </p>
    </section>
  );
}

export function CartPage() {
  const user = useUser();
  const cart = useCart();
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (user) void refreshCart().catch((failure) => setError(asApiError(failure)));
  }, [user?.id]);
  if (!user) return <SignInFirst what="Cart" />;
  if (!cart) return error ? <ErrorNote error={error} /> : <Loading label="Loading your cart" />;

  const run = (action: Promise<void>) => {
    setError(null);
    action.catch((failure) => setError(asApiError(failure)));
  };
  return (
    <section>
      <PageTitle title="Cart" />
      <ErrorNote error={error} />
      {cart.items.length === 0 ? (
        <p>
          Your cart is empty. <Link href="/">Browse the shop</Link>.
        </p>
      ) : (
        <>
          <table class="table">
            <caption class="visually-hidden">Items in your cart</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Price</th>
                <th scope="col">Quantity</th>
                <th scope="col">Total</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {cart.items.map((item) => (
                <tr key={item.id}>
                  <td>
                    <Link href={`/products/${item.product_id}`}>{item.product.name}</Link>
                    {!item.product.available && (
                      <span class="badge out"> No longer sold: remove it to check out</span>
                    )}
                  </td>
                  <td>
                    <Money amount={item.product.price} />
                  </td>
                  <td>
                    <label class="visually-hidden" for={`qty-${item.id}`}>
                      Quantity of {item.product.name}
                    </label>
                    <input
                      id={`qty-${item.id}`}
                      type="number"
                      min={1}
                      max={999}
                      value={item.quantity}
                      class="qty"
                      onChange={(event) => run(setQuantity(item.id, Number(event.currentTarget.value)))}
                    />
                  </td>
                  <td>
                    <Money amount={item.line_total} />
                  </td>
                  <td>
                    <button type="button" class="secondary" onClick={() => run(removeItem(item.id))}>
                      Remove<span class="visually-hidden"> {item.product.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="total">
            Total: <Money amount={cart.total} />
          </p>
          <Link href="/checkout" class="button">
            Checkout
          </Link>
        </>
      )}
    </section>
  );
}

const CARDS: [string, string][] = [
  ['tok_visa', 'Test Visa card (succeeds)'],
  ['tok_declined', 'Test card that is declined'],
  ['tok_flaky', 'Test card with a flaky network (succeeds after retries)'],
];

export function CheckoutPage() {
  const user = useUser();
  const cart = useCart();
  const [token, setToken] = useState('tok_visa');
  // One key per checkout attempt: a retry after a lost answer replays the same order instead of a second one.
  const [attemptKey, setAttemptKey] = useState(newIdempotencyKey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (user) void refreshCart().catch((failure) => setError(asApiError(failure)));
  }, [user?.id]);
  if (!user) return <SignInFirst what="Checkout" />;
  if (!cart) return error ? <ErrorNote error={error} /> : <Loading label="Loading your cart" />;

  const placeOrder = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const order = await api<Order>('POST', '/api/orders/', {
        body: { payment_method: 'card', payment_token: token },
        headers: { 'idempotency-key': attemptKey },
      });
      await refreshCart();
      navigate(`/orders/${order.id}`);
    } catch (failure) {
      const apiError = asApiError(failure);
      setError(apiError);
      // A definite answer ends the attempt; only a lost one (status 0) may be retried with the same key.
      if (apiError.status !== 0) setAttemptKey(newIdempotencyKey());
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageTitle title="Checkout" />
      {cart.items.length === 0 ? (
        <p>
          Your cart is empty. <Link href="/">Browse the shop</Link>.
        </p>
      ) : (
        <form class="stack" onSubmit={placeOrder}>
          <ul class="summary">
            {cart.items.map((item) => (
              <li key={item.id}>
                {item.quantity} × {item.product.name} — <Money amount={item.line_total} />
              </li>
            ))}
          </ul>
          <p class="total">
            Total: <Money amount={cart.total} />
          </p>
          <fieldset>
            <legend>Payment card</legend>
            {CARDS.map(([value, label]) => (
              <div class="field check" key={value}>
                <input
                  type="radio"
                  id={`card-${value}`}
                  name="card"
                  value={value}
                  checked={token === value}
                  onChange={() => setToken(value)}
                />
                <label for={`card-${value}`}>
                  {label} <code>{value}</code>
                </label>
              </div>
            ))}
          </fieldset>
          <ErrorNote error={error} />
          <button type="submit" disabled={busy}>
            {busy ? 'Placing the order…' : 'Place order'}
          </button>
        </form>
      )}
    </section>
  );
}
