import { LRUCache } from 'lru-cache';
import { type CaptureResult, type PaymentProvider, TransientPaymentError } from './provider.js';

/**
 * Idempotency keys the test provider remembers, per kind: about 2 MB. Retries mostly come after the job
 * runner's first backoffs (1, 2, 4 s), well within this many other payments; an older key is forgotten, as a
 * real provider forgets its own (Stripe after 24 hours). Forgetting costs little here: the same key captures
 * to the same reference, and only the simulated `charges` counter would count a late retry twice.
 */
export const REMEMBERED_KEYS = 10_000;

/**
 * The built-in provider, behaving like a card network in test mode: `tok_visa` is captured, `tok_declined`
 * is declined, `tok_flaky` fails transiently on its first two calls and then succeeds, `tok_unreachable`
 * fails transiently on every call (a provider that never answers); any other token is declined. It keeps the
 * first result of each recent idempotency key and returns it again, so a retried capture charges once. Its
 * memory is per process and bounded (it runs inside every `bazaar serve`, which may take millions of
 * payments): it stands in for a real provider, whose keys live on its side.
 */
export function createTestPaymentProvider(options: { rememberedKeys?: number } = {}) {
  const max = options.rememberedKeys ?? REMEMBERED_KEYS;
  const captures = new LRUCache<string, CaptureResult>({ max });
  const refunds = new LRUCache<string, { reference: string }>({ max });
  const flakyCalls = new LRUCache<string, number>({ max });
  let charges = 0;

  const provider: PaymentProvider & { readonly charges: number; readonly rememberedKeys: number } = {
    get charges() {
      return charges;
    },

    get rememberedKeys() {
      return captures.size + refunds.size + flakyCalls.size;
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
