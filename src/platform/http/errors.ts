/**
 * The catalogue of errors Bazaar answers with. Each code is stable (clients may switch on it) and becomes the
 * problem+json `type` `/problems/<code>`. Throw `new AppError('not_found', 'Product 7 does not exist')`.
 */
export const ERRORS = {
  validation: { status: 400, title: 'Invalid request' },
  invalid_cursor: { status: 400, title: 'Invalid cursor' },
  unknown_reference: { status: 400, title: 'Unknown reference' },
  empty_cart: { status: 400, title: 'Empty cart' },
  unauthenticated: { status: 401, title: 'Not authenticated' },
  invalid_credentials: { status: 401, title: 'Invalid credentials' },
  invalid_token: { status: 401, title: 'Invalid token' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  duplicate: { status: 409, title: 'Already exists' },
  insufficient_stock: { status: 409, title: 'Insufficient stock' },
  invalid_transition: { status: 409, title: 'Invalid state transition' },
  idempotency_mismatch: { status: 409, title: 'Idempotency key reused with another request' },
  idempotency_in_progress: { status: 409, title: 'Request with this idempotency key is in progress' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
  /** Short stock (409 insufficient_stock): which product, how many were asked for and how many there are. */
  product_id?: number;
  requested?: number;
  available?: number;
}

export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'AppError';
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  request_id?: string;
}

export function problemOf(code: ErrorCode, detail: string, errors?: FieldError[]): Problem {
  const { status, title } = ERRORS[code];
  return {
    type: `/problems/${code.replaceAll('_', '-')}`,
    title,
    status,
    detail,
    ...(errors ? { errors } : {}),
  };
}
