import { get, query } from '../api';
import { Link, navigate } from '../router';
import { type Category, childrenByParent, type Page, type ProductSummary } from '../types';
import { ErrorNote, Loading, Money, PageTitle, Stars, Thumbnail, useLoad } from '../ui';
import { loadCategories, pathTo } from './categories';

const SORTS: [string, string][] = [
  ['-created_at', 'Newest'],
  ['price', 'Price: low to high'],
  ['-price', 'Price: high to low'],
  ['-rating', 'Best rated'],
  ['name', 'Name: A to Z'],
  ['-name', 'Name: Z to A'],
  ['created_at', 'Oldest'],
];

function withParams(params: URLSearchParams, changes: Record<string, string | null>): string {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === '') next.delete(key);
    else next.set(key, value);
  }
  const text = next.toString();
  return text ? `/?${text}` : '/';
}

function CategoryTree({
  categories,
  selected,
  params,
}: {
  categories: Category[];
  selected: number | null;
  params: URLSearchParams;
}) {
  const tree = childrenByParent(categories);
  const open = new Set(pathTo(categories, selected));
  const level = (parent: number | null) => (
    <ul>
      {(tree.get(parent) ?? []).map((category) => (
        <li key={category.id}>
          <Link
            href={withParams(params, { category: String(category.id), cursor: null })}
            aria-current={category.id === selected ? 'page' : undefined}
          >
            {category.name}
          </Link>
          {open.has(category.id) && tree.has(category.id) && level(category.id)}
        </li>
      ))}
    </ul>
  );
  return (
    <nav class="categories" aria-label="Categories">
      <h2>Categories</h2>
      <ul>
        <li>
          <Link
            href={withParams(params, { category: null, cursor: null })}
            aria-current={selected === null ? 'page' : undefined}
          >
            All products
          </Link>
        </li>
      </ul>
      {level(null)}
    </nav>
  );
}

function Filters({ params }: { params: URLSearchParams }) {
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    navigate(
      withParams(params, {
        min_price: String(form.get('min_price') ?? '').trim(),
        max_price: String(form.get('max_price') ?? '').trim(),
        in_stock: form.get('in_stock') ? 'true' : null,
        sort: String(form.get('sort') ?? ''),
        cursor: null,
      }),
    );
  };
  const key = params.toString();
  return (
    <form class="filters" onSubmit={submit} key={key} aria-label="Filter and sort">
      <div class="field">
        <label for="min_price">Min price</label>
        <input
          id="min_price"
          name="min_price"
          inputMode="decimal"
          pattern="\d{1,10}(\.\d{1,2})?"
          size={7}
          defaultValue={params.get('min_price') ?? ''}
        />
      </div>
      <div class="field">
        <label for="max_price">Max price</label>
        <input
          id="max_price"
          name="max_price"
          inputMode="decimal"
          pattern="\d{1,10}(\.\d{1,2})?"
          size={7}
          defaultValue={params.get('max_price') ?? ''}
        />
      </div>
      <div class="field check">
        <input
          id="in_stock"
          name="in_stock"
          type="checkbox"
          defaultChecked={params.get('in_stock') === 'true'}
        />
        <label for="in_stock">In stock only</label>
      </div>
      <div class="field">
        <label for="sort">Sort by</label>
        <select id="sort" name="sort" defaultValue={params.get('sort') ?? '-created_at'}>
          {SORTS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <button type="submit">Apply</button>
    </form>
  );
}

export function ProductCard({ product }: { product: ProductSummary }) {
  return (
    <li class="card">
      <Link href={`/products/${product.id}`} class="card-link">
        <Thumbnail src={product.thumbnail_url} alt={product.name} decorative />
        <span class="card-name">{product.name}</span>
      </Link>
      <span class="card-meta">
        <Money amount={product.price} />
        <Stars average={product.rating.average} count={product.rating.count} />
      </span>
      {product.stock_quantity === 0 && <span class="badge out">Out of stock</span>}
    </li>
  );
}

export function Catalog({ params }: { params: URLSearchParams }) {
  const categoryId = params.get('category') ? Number(params.get('category')) : null;
  const categories = useLoad('categories', loadCategories);
  const apiQuery = query({
    category_id: categoryId,
    q: params.get('q'),
    min_price: params.get('min_price'),
    max_price: params.get('max_price'),
    in_stock: params.get('in_stock') === 'true',
    sort: params.get('sort'),
    cursor: params.get('cursor'),
    limit: 24,
  });
  const products = useLoad(apiQuery, () => get<Page<ProductSummary>>(`/api/products/${apiQuery}`));
  const current = categories.data?.find((category) => category.id === categoryId);
  const q = params.get('q');
  const title = q ? `Results for “${q}”` : (current?.name ?? 'All products');
  const page = products.data;

  return (
    <div class="catalog">
      {categories.data && <CategoryTree categories={categories.data} selected={categoryId} params={params} />}
      <section class="listing" aria-busy={products.loading}>
        <PageTitle title={title} />
        <Filters params={params} />
        <ErrorNote error={products.error ?? categories.error} />
        {!page && products.loading && <Loading label="Loading products" />}
        {page && page.items.length === 0 && <p>No product matches. Try fewer filters.</p>}
        {page && (
          <ul class="grid" aria-label="Products">
            {page.items.map((product) => (
              <ProductCard key={product.id} product={product} />
            ))}
          </ul>
        )}
        <nav class="pager" aria-label="Pages">
          {params.get('cursor') && <Link href={withParams(params, { cursor: null })}>« First page</Link>}
          {page?.next_cursor && (
            <Link href={withParams(params, { cursor: page.next_cursor })} rel="next">
              Next page »
            </Link>
          )}
        </nav>
      </section>
    </div>
  );
}
