import { useEffect, useState } from 'preact/hooks';
import { Link, match, navigate, useLocation } from '../router';
import { LogoutButton, useUser } from '../ui';
import { LoginPage, RegisterPage, ResetConfirmPage, ResetRequestPage } from './Account';
import { CartPage, CheckoutPage } from './CartPages';
import { Catalog } from './Catalog';
import { itemCount, refreshCart, useCart } from './cart-store';
import { OrderPage, OrdersPage } from './Orders';
import { ProductPage } from './ProductPage';
import { WishlistPage } from './Wishlist';

function Page() {
  const { path, params } = useLocation();
  if (path === '/') return <Catalog params={params} />;
  const product = match('/products/:id', path);
  if (product) return <ProductPage id={Number(product.id)} />;
  const order = match('/orders/:id', path);
  if (order) return <OrderPage id={Number(order.id)} />;
  switch (path) {
    case '/cart':
      return <CartPage />;
    case '/checkout':
      return <CheckoutPage />;
    case '/orders':
      return <OrdersPage />;
    case '/wishlist':
      return <WishlistPage />;
    case '/login':
      return <LoginPage next={params.get('next') ?? '/'} />;
    case '/register':
      return <RegisterPage />;
    case '/password-reset':
      return <ResetRequestPage />;
    case '/reset-password':
      return <ResetConfirmPage token={params.get('token') ?? ''} />;
    default:
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            <Link href="/">Back to the shop</Link>
          </p>
        </section>
      );
  }
}

function SearchBox() {
  const { path, params } = useLocation();
  const [text, setText] = useState(params.get('q') ?? '');
  useEffect(() => {
    if (path === '/') setText(params.get('q') ?? '');
  }, [path, params]);
  const submit = (event: Event) => {
    event.preventDefault();
    const next = new URLSearchParams(path === '/' ? params : undefined);
    next.delete('cursor');
    if (text.trim()) next.set('q', text.trim());
    else next.delete('q');
    navigate(`/?${next.toString()}`);
  };
  return (
    <search class="search">
      <form onSubmit={submit}>
        <label for="search-q" class="visually-hidden">
          Search products
        </label>
        <input
          id="search-q"
          type="search"
          placeholder="Search products"
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
    </search>
  );
}

export function Storefront() {
  const user = useUser();
  const cart = useCart();
  useEffect(() => {
    void refreshCart().catch(() => undefined);
  }, [user?.id]);
  const count = itemCount(cart);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          Bazaar
        </Link>
        <SearchBox />
        <nav aria-label="Account">
          <ul class="inline">
            <li>
              <Link href="/cart" aria-label={`Cart, ${count} items`}>
                Cart <span class="pill">{count}</span>
              </Link>
            </li>
            {user ? (
              <>
                <li>
                  <Link href="/orders">Orders</Link>
                </li>
                <li>
                  <Link href="/wishlist">Wishlist</Link>
                </li>
                {user.role !== 'customer' && (
                  <li>
                    <a href="/manage">Manage</a>
                  </li>
                )}
                <li>
                  <LogoutButton username={user.username} then="/" />
                </li>
              </>
            ) : (
              <>
                <li>
                  <Link href="/login">Log in</Link>
                </li>
                <li>
                  <Link href="/register">Register</Link>
                </li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main">
        <Page />
      </main>
      <footer class="footer">
        <p>
          Bazaar demo shop · <a href="/docs">API reference</a>
        </p>
      </footer>
    </>
  );
}
