import { Link, match, navigate, useLocation } from '../router';
import { LoginForm } from '../shop/Account';
import { LogoutButton, useUser } from '../ui';
import { CategoriesPage } from './Categories';
import { DashboardPage } from './Dashboard';
import { OrdersAdminPage } from './OrdersAdmin';
import { ProductEditPage, ProductsPage } from './Products';

const SECTIONS: [string, string][] = [
  ['/manage', 'Dashboard'],
  ['/manage/products', 'Products'],
  ['/manage/categories', 'Categories'],
  ['/manage/orders', 'Orders'],
];

function Page() {
  const { path, params } = useLocation();
  const edit = match('/manage/products/:id', path);
  if (edit) return <ProductEditPage id={edit.id === 'new' ? null : Number(edit.id)} />;
  switch (path) {
    case '/manage/products':
      return <ProductsPage params={params} />;
    case '/manage/categories':
      return <CategoriesPage />;
    case '/manage/orders':
      return <OrdersAdminPage status={params.get('status') ?? 'paid'} />;
    default:
      return <DashboardPage />;
  }
}

export function Manager() {
  const user = useUser();
  const { path } = useLocation();
  if (!user || user.role === 'customer') {
    return (
      <main id="main" class="manage-login">
        {user && (
          <p class="note error" role="alert">
            {user.username} is not a manager. Log in with a manager account.
          </p>
        )}
        <LoginForm title="Manager login" onDone={() => navigate(path, { replace: true })} />
        <p>
          <a href="/">Back to the shop</a>
        </p>
      </main>
    );
  }
  const active = SECTIONS.reduce(
    (best, [href]) => (path.startsWith(href) && href.length > best.length ? href : best),
    '',
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar manage">
        <Link href="/manage" class="brand">
          Bazaar manager
        </Link>
        <nav aria-label="Manager sections">
          <ul class="inline">
            {SECTIONS.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={active === href ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
            <li>
              <a href="/">Shop</a>
            </li>
            <li>
              <LogoutButton username={user.username} then="/manage" />
            </li>
          </ul>
        </nav>
      </header>
      <main id="main">
        <Page />
      </main>
    </>
  );
}
