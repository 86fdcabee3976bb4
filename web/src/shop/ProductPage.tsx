import { useState } from 'preact/hooks';
import { type ApiError, api, get } from '../api';
import { Link, navigate } from '../router';
import type { Page, Product, Review } from '../types';
import {
  asApiError,
  ErrorNote,
  formatDate,
  Loading,
  Money,
  PageTitle,
  Stars,
  Thumbnail,
  useLoad,
  useUser,
} from '../ui';
import { addToCart } from './cart-store';

function Gallery({ product }: { product: Product }) {
  const ready = product.images.filter((image) => image.status === 'ready');
  const [shown, setShown] = useState(0);
  const main = ready[shown] ?? ready[0];
  if (!main) return <Thumbnail src={null} alt={product.name} />;
  return (
    <div class="gallery">
      <img class="main-image" src={main.url ?? main.thumbnail_url ?? ''} alt={product.name} />
      {ready.length > 1 && (
        <ul class="inline thumbs" aria-label="More pictures">
          {ready.map((image, index) => (
            <li key={image.id}>
              <button
                type="button"
                class="thumb-button"
                aria-pressed={index === shown}
                onClick={() => setShown(index)}
              >
                <img
                  src={image.thumbnail_url ?? ''}
                  alt={`${product.name}, view ${index + 1}`}
                  width={134}
                  height={100}
                />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Reviews({ productId, onChange }: { productId: number; onChange: () => void }) {
  const user = useUser();
  const reviews = useLoad(`reviews-${productId}`, () =>
    get<Page<Review>>(`/api/products/${productId}/reviews/?limit=50`),
  );
  const [rating, setRating] = useState('5');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [sent, setSent] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await api('POST', `/api/products/${productId}/reviews/`, { body: { rating: Number(rating), comment } });
      setSent(true);
      setComment('');
      reviews.reload();
      onChange();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  return (
    <section class="reviews" aria-labelledby="reviews-title">
      <h2 id="reviews-title">Reviews</h2>
      <ErrorNote error={reviews.error} />
      {reviews.data && reviews.data.items.length === 0 && <p>No reviews yet.</p>}
      <ul class="review-list">
        {reviews.data?.items.map((review) => (
          <li key={review.id}>
            <Stars average={review.rating} count={1} />{' '}
            <strong>{review.user_id === user?.id ? 'You' : 'A customer'}</strong>{' '}
            <time dateTime={review.created_at}>{formatDate(review.created_at)}</time>
            {review.comment && <p>{review.comment}</p>}
          </li>
        ))}
      </ul>
      {user ? (
        <form class="stack" onSubmit={submit} aria-labelledby="write-review">
          <h3 id="write-review">Write a review</h3>
          {sent && (
            <p class="note ok" role="status">
              Thank you, your review is published.
            </p>
          )}
          <ErrorNote error={error} />
          <div class="field">
            <label for="review-rating">Rating</label>
            <select
              id="review-rating"
              value={rating}
              onChange={(event) => setRating(event.currentTarget.value)}
            >
              {[5, 4, 3, 2, 1].map((value) => (
                <option key={value} value={value}>
                  {value} star{value > 1 ? 's' : ''}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="review-comment">Comment</label>
            <textarea
              id="review-comment"
              rows={3}
              maxLength={5000}
              value={comment}
              onInput={(event) => setComment(event.currentTarget.value)}
            />
          </div>
          <button type="submit">Publish review</button>
        </form>
      ) : (
        <p>
          <Link href={`/login?next=/products/${productId}`}>Log in</Link> to write a review.
        </p>
      )}
    </section>
  );
}

export function ProductPage({ id }: { id: number }) {
  const user = useUser();
  const product = useLoad(`product-${id}`, () => get<Product>(`/api/products/${id}/`));
  const [quantity, setQuantity] = useState('1');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const data = product.data;

  const needLogin = () => {
    if (user) return false;
    navigate(`/login?next=/products/${id}`);
    return true;
  };
  const add = async (event: Event) => {
    event.preventDefault();
    if (needLogin()) return;
    setError(null);
    try {
      await addToCart(id, Number(quantity));
      setMessage(`Added ${quantity} to your cart.`);
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  const wish = async () => {
    if (needLogin()) return;
    setError(null);
    try {
      await api('POST', '/api/wishlist/items/', { body: { product_id: id } });
      setMessage('Saved to your wishlist.');
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  if (!data)
    return product.error ? <ErrorNote error={product.error} /> : <Loading label="Loading the product" />;
  return (
    <article class="product">
      <nav aria-label="Breadcrumb" class="crumbs">
        <Link href="/">Shop</Link> › <Link href={`/?category=${data.category.id}`}>{data.category.name}</Link>
      </nav>
      <div class="product-layout">
        <Gallery product={data} />
        <div class="buy">
          <PageTitle title={data.name} />
          <p class="price">
            <Money amount={data.price} />
          </p>
          <p>
            <Stars average={data.rating.average} count={data.rating.count} />
          </p>
          <p class="stock" data-testid="stock">
            {data.stock_quantity > 0 ? `${data.stock_quantity} in stock` : 'Out of stock'}
          </p>
          <form class="inline-form" onSubmit={add}>
            <label for="quantity">Quantity</label>
            <input
              id="quantity"
              type="number"
              min={1}
              max={999}
              required
              value={quantity}
              onInput={(event) => setQuantity(event.currentTarget.value)}
            />
            <button type="submit" disabled={data.stock_quantity === 0}>
              Add to cart
            </button>
          </form>
          <button type="button" class="secondary" onClick={wish}>
            Add to wishlist
          </button>
          {message && (
            <p class="note ok" role="status">
              {message} <Link href="/cart">View cart</Link>
            </p>
          )}
          <ErrorNote error={error} />
          <p class="description">{data.description}</p>
        </div>
      </div>
      <Reviews productId={id} onChange={product.reload} />
    </article>
  );
}
