import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api } from '../api';
import type { Product } from '../types';
import { asApiError, ErrorNote } from '../ui';

const POLL_MS = 1_000;

/** Uploads pictures and follows their processing: while one is processing, the product is re-read every second. */
export function ImagesPanel({ product, onChange }: { product: Product; onChange: () => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const processing = product.images.some((image) => image.status === 'processing');

  useEffect(() => {
    if (!processing) return;
    const timer = window.setTimeout(onChange, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [product, processing, onChange]);

  const upload = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const file = (formElement.elements.namedItem('image') as HTMLInputElement).files?.[0];
    if (!file) return;
    const body = new FormData();
    body.append('file', file);
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/products/${product.id}/images/`, { body });
      formElement.reset();
      onChange();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel images-panel" aria-labelledby="images-title">
      <h2 id="images-title">Pictures</h2>
      {product.images.length === 0 && <p>No picture yet.</p>}
      <ul class="inline images">
        {product.images.map((image) => (
          <li key={image.id} class={`image-status-${image.status}`}>
            {image.status === 'ready' && image.thumbnail_url ? (
              <img
                src={image.thumbnail_url}
                alt={`${product.name}, upload ${image.id}`}
                width={268}
                height={200}
              />
            ) : (
              <div class="thumb placeholder" aria-hidden="true" />
            )}
            <span class="badge" role="status">
              {image.status === 'processing' ? 'Processing…' : image.status === 'ready' ? 'Ready' : 'Failed'}
            </span>
          </li>
        ))}
      </ul>
      <form class="inline-form" onSubmit={upload}>
        <label for="image">Add a picture (JPEG, PNG or WebP, up to 10 MB)</label>
        <input id="image" name="image" type="file" accept="image/jpeg,image/png,image/webp" required />
        <button type="submit" disabled={busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}
