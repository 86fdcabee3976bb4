import { useState } from 'preact/hooks';
import { type ApiError, api, get } from '../api';
import { Link } from '../router';
import type { ProductSummary, WishlistItem } from '../types';
import { asApiError, ErrorNote, Loading, Money, PageTitle, Thumbnail, useLoad, useUser } from '../ui';

interface Wishlist {
  items: WishlistItem[];
}

export function WishlistPage() {
  const user = useUser();
  const wishlist = useLoad(user ? `wishlist-${user.id}` : null, () =>
    get<Wishlist>('/api/wishlist/?limit=100'),
  );
  const [error, setError] = useState<ApiError | null>(null);
  if (!user)
    return (
      <p>
        <Link href="/login?next=/wishlist">Log in</Link> to see your wishlist.
      </p>
    );
  const remove = async (productId: number) => {
    try {
      await api('DELETE', `/api/wishlist/items/${productId}/`);
      wishlist.reload();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <section>
      <PageTitle title="Wishlist" />
      <ErrorNote error={wishlist.error ?? error} />
      {wishlist.loading && !wishlist.data && <Loading label="Loading your wishlist" />}
      {wishlist.data?.items.length === 0 && <p>Nothing saved yet.</p>}
      <ul class="rows">
        {wishlist.data?.items.map((item) => {
          const product: Partial<ProductSummary> = item.product ?? {};
          const name = product.name ?? `Product ${item.product_id}`;
          return (
            <li key={item.product_id} class="row-with-image">
              <Thumbnail src={product.thumbnail_url ?? null} alt={name} />
              <Link href={`/products/${item.product_id}`}>{name}</Link>
              {product.price && <Money amount={product.price} />}
              <button type="button" class="secondary" onClick={() => remove(item.product_id)}>
                Remove<span class="visually-hidden"> {name}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
