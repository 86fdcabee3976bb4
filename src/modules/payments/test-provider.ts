import { type CaptureResult, type PaymentProvider, TransientPaymentError } from './provider.js';

/**
 * The built-in provider, behaving like a card network in test mode: `tok_visa` is captured, `tok_declined`
 * is declined, `tok_flaky` fails transiently on its first two calls and then succeeds, `tok_unreachable`
 * fails transiently on every call (a provider that never answers); any other token is declined. It keeps the first result of each idempotency key and returns it again, so a retried capture
 * charges once. Its memory is per process: it stands in for a real provider, whose keys live on its side.
 */
export function createTestPaymentProvider() {
  const captures = new Map<string, CaptureResult>();
  const refunds = new Map<string, { reference: string }>();
  const flakyCalls = new Map<string, number>();
  let charges = 0;

  const provider: PaymentProvider & { readonly charges: number } = {
    get charges() {
      return charges;
    },

    async authorizeAndCapture({ idempotencyKey, token }) {
      const first = captures.get(idempotencyKey);
      if (first) return first;
      if (token === 'tok_unreachable') throw new TransientPaymentError('test provider: no answer');
      if (token === 'tok_flaky') {
        const calls = (flakyCalls.get(idempotencyKey) ?? 0) + 1;
        flakyCalls.set(idempotencyKey, calls);
        if (calls <= 2) throw new TransientPaymentError(`test provider: transient failure ${calls} of 2`);
      }
      let result: CaptureResult;
      if (token === 'tok_visa' || token === 'tok_flaky') {
        charges += 1;
        result = { status: 'succeeded', reference: `test_ch_${idempotencyKey}` };
      } else if (token === 'tok_declined') {
        result = { status: 'declined', reason: 'card_declined' };
      } else {
        result = { status: 'declined', reason: 'invalid_token' };
      }
      captures.set(idempotencyKey, result);
      return result;
    },

    async refund({ idempotencyKey, reference }) {
      const first = refunds.get(idempotencyKey);
      if (first) return first;
      const result = { reference: `test_re_${reference}` };
      refunds.set(idempotencyKey, result);
      return result;
    },
  };
  return provider;
}
