import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, logout, onUserChange, type User, user } from './api';
import { navigate } from './router';

export function useUser(): User | null {
  const [value, setValue] = useState(user);
  useEffect(() => onUserChange(setValue), []);
  return value;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads once per change of `key` (a string of everything the request depends on); stale answers are dropped.
 * What was loaded for another key is never returned: a new search shows "loading", not the last search's
 * results under the new title. A `reload()` keeps the current data on screen while it loads again.
 */
export function useLoad<T>(key: string | null, load: () => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{
    key: string | null;
    data?: T;
    error: ApiError | null;
    loading: boolean;
  }>({
    key,
    error: null,
    loading: key !== null,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (key === null) return;
    let live = true;
    setState((previous) =>
      previous.key === key ? { ...previous, loading: true } : { key, error: null, loading: true },
    );
    load().then(
      (data) => live && setState({ key, data, error: null, loading: false }),
      (error: unknown) => live && setState({ key, error: asApiError(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  if (state.key !== key) return { data: undefined, error: null, loading: key !== null, reload };
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'Error', String(error));
}

let firstPage = true;

/**
 * Sets the document title and, after an in-app navigation, moves focus to the page heading so screen readers
 * announce the new page. The first page keeps the browser's own focus, so Tab reaches the skip link first.
 */
export function usePage(title: string) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Bazaar`;
    if (firstPage) firstPage = false;
    else heading.current?.focus({ preventScroll: true });
  }, [title]);
  return heading;
}

export function PageTitle({ title, children }: { title: string; children?: ComponentChildren }) {
  const heading = usePage(title);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}

export function ErrorNote({ error }: { error: ApiError | null | undefined }) {
  if (!error) return null;
  return (
    <div class="note error" role="alert">
      <strong>{error.title}.</strong> {error.detail}
      {error.errors.length > 0 && (
        <ul>
          {error.errors.map((item) => (
            <li key={item.path}>
              {item.path.replace(/^body\./, '')}: {item.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <p class="loading" role="status">
      {label}…
    </p>
  );
}

type InputProps = InputHTMLAttributes<HTMLInputElement> & { label: string; name: string; hint?: string };

/** A labelled input; the hint is tied to it with aria-describedby. */
export function Field({ label, name, hint, id, ...rest }: InputProps) {
  const inputId = (id as string | undefined) ?? `field-${name}`;
  return (
    <div class="field">
      <label for={inputId}>{label}</label>
      <input id={inputId} name={name} aria-describedby={hint ? `${inputId}-hint` : undefined} {...rest} />
      {hint && (
        <small id={`${inputId}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** Money arrives as an exact decimal string ("19.99") and is shown as is: the app never does sums in floats. */
export function Money({ amount }: { amount: string }) {
  return <span class="money">${amount}</span>;
}

export function Stars({ average, count }: { average: number; count: number }) {
  const label = count === 0 ? 'No ratings yet' : `Rated ${average.toFixed(1)} out of 5 by ${count}`;
  const full = Math.round(average);
  return (
    <span class="stars" role="img" aria-label={label} title={label}>
      <span aria-hidden="true">{'★'.repeat(full)}</span>
      <span aria-hidden="true" class="dim">
        {'★'.repeat(5 - full)}
      </span>
      <span aria-hidden="true" class="count">
        {' '}
        ({count})
      </span>
    </span>
  );
}

/**
 * The 268x200 thumbnail, or a neutral box of the same size while there is none. Beside the product's name
 * (in a card's link) it is decorative, so the link is announced by the name alone.
 */
export function Thumbnail({
  src,
  alt,
  decorative = false,
}: {
  src: string | null;
  alt: string;
  decorative?: boolean;
}) {
  if (!src) {
    return decorative ? (
      <div class="thumb placeholder" aria-hidden="true" />
    ) : (
      <div class="thumb placeholder" role="img" aria-label={`${alt}: no picture yet`} />
    );
  }
  return (
    <img
      class="thumb"
      src={src}
      alt={decorative ? '' : alt}
      width={268}
      height={200}
      loading="lazy"
      decoding="async"
    />
  );
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const STATUS_LABELS: Record<string, string> = {
  pending: 'Pending payment',
  paid: 'Paid',
  shipped: 'Shipped',
  delivered: 'Delivered',
  canceled: 'Canceled',
};

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{STATUS_LABELS[status] ?? status}</span>;
}

/** The header's "Log out" button of both apps: ends the session, then shows `then`. */
export function LogoutButton({ username, then }: { username: string; then: string }) {
  return (
    <button
      type="button"
      class="link"
      onClick={async () => {
        await logout();
        navigate(then);
      }}
    >
      Log out {username}
    </button>
  );
}
