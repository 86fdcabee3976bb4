/**
 * The one way the app reaches Bazaar: its public API. The access token lives in memory only; the refresh
 * token is kept in localStorage so a reload keeps the session, and is rotated through /api/auth/refresh/.
 * A refresh token may be used once, so refreshes are serialised across tabs with a Web Lock and each tab
 * re-reads the stored token inside the lock.
 */

export interface User {
  id: number;
  username: string;
  email: string;
  first_name?: string;
  last_name?: string;
  role: 'customer' | 'manager' | 'admin';
}

export interface FieldError {
  path: string;
  message: string;
}

/** A problem+json answer (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail || title);
  }
}

const REFRESH_KEY = 'bazaar.refresh';
let access: string | null = null;
let currentUser: User | null = null;
const listeners = new Set<(user: User | null) => void>();

export function user(): User | null {
  return currentUser;
}

export function onUserChange(listener: (user: User | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(next: { user?: User | null; access?: string | null; refresh?: string | null }) {
  if (next.access !== undefined) access = next.access;
  if (next.refresh !== undefined) {
    if (next.refresh === null) localStorage.removeItem(REFRESH_KEY);
    else localStorage.setItem(REFRESH_KEY, next.refresh);
  }
  if (next.user !== undefined) {
    currentUser = next.user;
    for (const listener of listeners) listener(currentUser);
  }
}

async function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  if ('locks' in navigator) return navigator.locks.request('bazaar-refresh', fn);
  return fn();
}

let refreshing: Promise<boolean> | null = null;

/** Trades the stored refresh token for a new pair; false (and signed out) when it is refused. */
function refreshAccess(): Promise<boolean> {
  refreshing ??= withRefreshLock(async () => {
    const refresh = localStorage.getItem(REFRESH_KEY);
    if (!refresh) return false;
    const res = await fetch('/api/auth/refresh/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh }),
    }).catch(() => null);
    if (res === null) return false;
    if (!res.ok) {
      setSession({ access: null, refresh: null, user: null });
      return false;
    }
    const body = (await res.json()) as { access: string; refresh: string };
    setSession({ access: body.access, refresh: body.refresh });
    return true;
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (access) headers.authorization = `Bearer ${access}`;
  try {
    return await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError(0, 'Network error', 'Bazaar could not be reached; check the connection and retry');
  }
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  let res = await send(method, path, options);
  // A 401 from /api/auth/ (a wrong password, say) is the answer itself, not an expired access token.
  const retryable = !path.startsWith('/api/auth/') || path.startsWith('/api/auth/me');
  if (res.status === 401 && retryable && localStorage.getItem(REFRESH_KEY) && (await refreshAccess())) {
    res = await send(method, path, options);
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : null;
  if (!res.ok) {
    const problem = (data ?? {}) as { title?: string; detail?: string; errors?: FieldError[] };
    throw new ApiError(
      res.status,
      problem.title ?? res.statusText,
      problem.detail ?? `The request failed with status ${res.status}`,
      problem.errors ?? [],
    );
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>('GET', path);

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '' && value !== false)
      search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

interface AuthAnswer {
  user: User;
  access: string;
  refresh: string;
}

export async function login(identifier: string, password: string): Promise<User> {
  const body = identifier.includes('@')
    ? { email: identifier, password }
    : { username: identifier, password };
  const answer = await api<AuthAnswer>('POST', '/api/auth/login/', { body });
  setSession(answer);
  return answer.user;
}

export async function register(fields: {
  username: string;
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
}): Promise<User> {
  const answer = await api<AuthAnswer>('POST', '/api/auth/register/', { body: fields });
  setSession(answer);
  return answer.user;
}

export async function logout(): Promise<void> {
  const refresh = localStorage.getItem(REFRESH_KEY);
  setSession({ access: null, refresh: null, user: null });
  if (refresh) await api('POST', '/api/auth/logout/', { body: { refresh } }).catch(() => undefined);
}

/** On load: a stored refresh token becomes a session again, or is forgotten. */
export async function restoreSession(): Promise<void> {
  if (!localStorage.getItem(REFRESH_KEY)) return;
  if (!(await refreshAccess())) return;
  try {
    setSession({ user: await get<User>('/api/auth/me/') });
  } catch {
    setSession({ access: null, refresh: null, user: null });
  }
}

/** A fresh key per checkout attempt; getRandomValues also works outside secure contexts, unlike randomUUID. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
