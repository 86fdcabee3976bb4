import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, get, query } from '../api';
import { Link, navigate } from '../router';
import { loadCategories } from '../shop/categories';
import type { Category, Page, Product, ProductSummary } from '../types';
import { asApiError, ErrorNote, Field, Loading, Money, PageTitle, Thumbnail, useLoad } from '../ui';
import { ImagesPanel } from './Images';

export function ProductsPage({ params }: { params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const cursor = params.get('cursor');
  const apiQuery = query({ q, cursor, limit: 50, sort: q ? undefined : '-created_at' });
  const products = useLoad(apiQuery, () => get<Page<ProductSummary>>(`/api/products/${apiQuery}`));
  const [error, setError] = useState<ApiError | null>(null);

  const search = (event: Event) => {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget as HTMLFormElement).get('q') ?? '').trim();
    navigate(`/manage/products${query({ q: text })}`);
  };
  const remove = async (product: ProductSummary) => {
    if (!window.confirm(`Delete “${product.name}”? It leaves the catalog; past orders keep it.`)) return;
    try {
      await api('DELETE', `/api/products/${product.id}/`);
      products.reload();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  return (
    <section>
      <PageTitle title="Products" />
      <div class="toolbar">
        <search>
          <form class="inline-form" onSubmit={search} key={q}>
            <label for="product-q">Search</label>
            <input id="product-q" name="q" type="search" defaultValue={q} />
            <button type="submit">Search</button>
          </form>
        </search>
        <Link href="/manage/products/new" class="button">
          New product
        </Link>
      </div>
      <ErrorNote error={products.error ?? error} />
      {products.loading && !products.data && <Loading label="Loading products" />}
      {products.data && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Picture</th>
              <th scope="col">Name</th>
              <th scope="col">Price</th>
              <th scope="col">Stock</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {products.data.items.map((product) => (
              <tr key={product.id}>
                <td class="mini">
                  <Thumbnail src={product.thumbnail_url} alt={product.name} />
                </td>
                <td>
                  <Link href={`/manage/products/${product.id}`}>{product.name}</Link>
                </td>
                <td>
                  <Money amount={product.price} />
                </td>
                <td class={product.stock_quantity <= 5 ? 'low' : undefined}>{product.stock_quantity}</td>
                <td>
                  <button type="button" class="secondary" onClick={() => remove(product)}>
                    Delete<span class="visually-hidden"> {product.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {products.data?.next_cursor && (
        <Link href={`/manage/products${query({ q, cursor: products.data.next_cursor })}`}>Next page »</Link>
      )}
    </section>
  );
}

function CategorySelect({ categories, value }: { categories: Category[]; value: number | undefined }) {
  const byId = new Map(categories.map((c) => [c.id, c]));
  const label = (c: Category): string => {
    const parent = c.parent_id === null ? undefined : byId.get(c.parent_id);
    return parent ? `${label(parent)} › ${c.name}` : c.name;
  };
  const options = categories
    .map((c) => ({ id: c.id, text: label(c) }))
    .sort((a, b) => a.text.localeCompare(b.text));
  return (
    <div class="field">
      <label for="field-category_id">Category</label>
      <select
        id="field-category_id"
        name="category_id"
        required
        defaultValue={value === undefined ? '' : String(value)}
      >
        <option value="" disabled>
          Choose a category
        </option>
        {options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Create (id null) or edit a product, and manage its pictures once it exists. */
export function ProductEditPage({ id }: { id: number | null }) {
  const product = useLoad(id === null ? null : `manage-product-${id}`, () =>
    get<Product>(`/api/products/${id}/`),
  );
  const categories = useLoad('categories', loadCategories);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setSaved(false), [id]);
  const data = product.data;

  const save = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const body = {
      name: String(form.get('name')).trim(),
      description: String(form.get('description') ?? ''),
      price: String(form.get('price')).trim(),
      stock_quantity: Number(form.get('stock_quantity')),
      category_id: Number(form.get('category_id')),
    };
    setError(null);
    try {
      if (id === null) {
        const created = await api<Product>('POST', '/api/products/', { body });
        navigate(`/manage/products/${created.id}`, { replace: true });
      } else {
        await api('PATCH', `/api/products/${id}/`, { body });
        setSaved(true);
        product.reload();
      }
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  if (id !== null && !data)
    return product.error ? <ErrorNote error={product.error} /> : <Loading label="Loading the product" />;
  return (
    <section>
      <PageTitle title={id === null ? 'New product' : `Edit ${data?.name ?? ''}`} />
      <p>
        <Link href="/manage/products">« All products</Link>
        {id !== null && (
          <>
            {' '}
            · <a href={`/products/${id}`}>View in the shop</a>
          </>
        )}
      </p>
      <form class="stack narrow" onSubmit={save} key={data?.id ?? 'new'}>
        <ErrorNote error={error ?? categories.error} />
        {saved && (
          <p class="note ok" role="status">
            Saved.
          </p>
        )}
        <Field label="Name" name="name" required maxLength={200} defaultValue={data?.name} />
        <div class="field">
          <label for="field-description">Description</label>
          <textarea
            id="field-description"
            name="description"
            rows={4}
            maxLength={10000}
            defaultValue={data?.description}
          />
        </div>
        <Field
          label="Price"
          name="price"
          required
          inputMode="decimal"
          pattern="\d{1,10}(\.\d{1,2})?"
          defaultValue={data?.price}
          hint="For example 19.99"
        />
        <Field
          label="Stock"
          name="stock_quantity"
          type="number"
          min={0}
          required
          defaultValue={String(data?.stock_quantity ?? 0)}
        />
        {categories.data && <CategorySelect categories={categories.data} value={data?.category.id} />}
        <button type="submit">{id === null ? 'Create product' : 'Save changes'}</button>
      </form>
      {id !== null && data && <ImagesPanel product={data} onChange={product.reload} />}
    </section>
  );
}
