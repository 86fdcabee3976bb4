/**
 * What Bazaar needs from a card processor. Every call carries an idempotency key (derived from the payment's
 * id), and a provider must honour it: the same key again returns the first result and moves money once.
 */
export type CaptureResult =
  | { status: 'succeeded'; reference: string }
  | { status: 'declined'; reason: string };

export interface PaymentProvider {
  /** Authorizes and captures in one step. Throws TransientPaymentError when the outcome is unknown. */
  authorizeAndCapture(request: {
    idempotencyKey: string;
    amount: string;
    token: string;
  }): Promise<CaptureResult>;
  refund(request: {
    idempotencyKey: string;
    amount: string;
    reference: string;
  }): Promise<{ reference: string }>;
}

/** The provider could not answer (timeout, 5xx): the same call, with the same key, may be retried. */
export class TransientPaymentError extends Error {
  override name = 'TransientPaymentError';
}
