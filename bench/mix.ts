import { randomUUID } from 'node:crypto';
import type { Request } from 'autocannon';

/**
 * Scenario 6's signed-in shoppers, for autocannon: browse 80% (details of the popular products, category
 * pages), cart 15% (add one popular product), checkout 5%. Cart and checkout change a shopper's state, so each
 * shopper knows what its cart holds and is used by one request at a time:
 *
 * - a checkout goes to a shopper whose cart holds items (none yet: the roll becomes a cart add), with a fresh
 *   Idempotency-Key, so an empty-cart 400 would be a bug of the bench or the API, not a designed answer;
 * - a shopper whose cart is unknown (its last request got no answer, or an unexpected status) or short of stock
 *   (a designed 409) empties it first with DELETE /api/cart/ (204), as a real shopper would; before the first
 *   run, emptyCarts() empties every cart, so runs start from known (empty) carts.
 *
 * Every answer is counted by action and status; anything but the designed ones is "undesigned" (target 0).
 */

export const MIX_ACTIONS = ['browse', 'cart', 'clear', 'checkout'] as const;
export type MixAction = (typeof MIX_ACTIONS)[number];

const DESIGNED: Record<MixAction, readonly number[]> = {
  browse: [200],
  cart: [201],
  clear: [204],
  // 409: short stock (insufficient_stock), nothing changed; the shopper empties the cart and goes on.
  checkout: [201, 409],
};

export const isDesigned = (action: MixAction, status: number) => DESIGNED[action].includes(status);

/** Answers by action, then by status: `{ checkout: { 201: 310, 409: 2 } }`. */
export type MixTally = Record<MixAction, Record<string, number>>;

export const emptyTally = (): MixTally => ({ browse: {}, cart: {}, clear: {}, checkout: {} });

export function undesignedCount(tally: MixTally): number {
  let count = 0;
  for (const action of MIX_ACTIONS) {
    for (const [status, n] of Object.entries(tally[action])) {
      if (!isDesigned(action, Number(status))) count += n;
    }
  }
  return count;
}

/** `201 x 310, 409 x 2 (designed)`, statuses in order. */
export function formatStatuses(counts: Record<string, number>, designed?: (status: number) => boolean) {
  const entries = Object.entries(counts).sort(([a], [b]) => Number(a) - Number(b));
  if (entries.length === 0) return 'none';
  return entries
    .map(([status, n]) => `${status} x ${n}${designed && !designed(Number(status)) ? ' (UNDESIGNED)' : ''}`)
    .join(', ');
}

interface Shopper {
  authorization: string;
  items: number;
  /** Its cart's content is unknown or cannot be bought: empty it before anything else. */
  mustClear: boolean;
  /** While a request of its own is in flight; a lease, so a request lost to a socket error frees it later. */
  busyUntil: number;
}

interface Context {
  action?: MixAction;
  shopper?: Shopper;
}

/** Longer than autocannon's request timeout (10 s): a shopper whose request got no answer is free again. */
const LEASE_MS = 30_000;

/** Access tokens live 15 minutes (auth.ts): the mix signs new ones every 10, so a 30-minute soak stays signed in. */
const TOKEN_RENEW_MS = 10 * 60_000;

export function createShopperMix(options: {
  /** One access token per shopper, signed now; called again every ten minutes. */
  signTokens: () => readonly string[];
  popularProductIds: readonly number[];
  categoryIds: readonly number[];
}) {
  const shoppers: Shopper[] = options.signTokens().map((token) => ({
    authorization: `Bearer ${token}`,
    items: 0,
    mustClear: true,
    busyUntil: 0,
  }));
  let signedAt = Date.now();
  /** New tokens for every shopper once the last ones are ten minutes old; carts and leases stay as they are. */
  function renewTokens() {
    if (Date.now() - signedAt < TOKEN_RENEW_MS) return;
    signedAt = Date.now();
    options.signTokens().forEach((token, index) => {
      const shopper = shoppers[index];
      if (shopper) shopper.authorization = `Bearer ${token}`;
    });
  }
  const random = (n: number) => Math.floor(Math.random() * n);
  const pick = <T>(items: readonly T[]): T => items[random(items.length)] as T;
  let tally = emptyTally();
  const json = { 'content-type': 'application/json' };

  /** A shopper with no request in flight (and, if asked, items to buy), by random probing. */
  function idleShopper(withItems: boolean): Shopper | undefined {
    const now = Date.now();
    for (let probe = 0; probe < 16; probe++) {
      const shopper = pick(shoppers);
      if (shopper.busyUntil > now) continue;
      if (shopper.busyUntil !== 0) {
        // Its last request never answered (socket error, timeout, end of a run): the cart is unknown.
        shopper.mustClear = true;
      }
      if (withItems && (shopper.mustClear || shopper.items === 0)) continue;
      shopper.busyUntil = now + LEASE_MS;
      return shopper;
    }
    return undefined;
  }

  function browse(req: Request, context: Context): Request {
    context.action = 'browse';
    const headers = { authorization: pick(shoppers).authorization };
    const path =
      Math.random() < 0.6
        ? `/api/products/${pick(options.popularProductIds)}/`
        : `/api/products/?category_id=${pick(options.categoryIds)}`;
    return { ...req, method: 'GET', headers, path, body: undefined };
  }

  function setupRequest(req: Request, context: Context): Request {
    renewTokens();
    const roll = Math.random();
    if (roll < 0.8) return browse(req, context);
    const shopper = idleShopper(roll >= 0.95) ?? idleShopper(false);
    // More connections than idle shoppers: browse rather than share a cart between two requests.
    if (!shopper) return browse(req, context);
    context.shopper = shopper;
    const headers = { authorization: shopper.authorization };
    if (shopper.mustClear) {
      context.action = 'clear';
      return { ...req, method: 'DELETE', headers, path: '/api/cart/', body: undefined };
    }
    if (roll >= 0.95 && shopper.items > 0) {
      context.action = 'checkout';
      return {
        ...req,
        method: 'POST',
        headers: { ...headers, ...json, 'idempotency-key': randomUUID() },
        path: '/api/orders/',
        body: JSON.stringify({ payment_method: 'card', payment_token: 'tok_visa' }),
      };
    }
    context.action = 'cart';
    const body = JSON.stringify({ product_id: pick(options.popularProductIds), quantity: 1 });
    return { ...req, method: 'POST', headers: { ...headers, ...json }, path: '/api/cart/items/', body };
  }

  function onResponse(status: number, _body: string, context: Context): void {
    const action = context.action;
    if (!action) return;
    const counts = tally[action];
    counts[status] = (counts[status] ?? 0) + 1;
    const shopper = context.shopper;
    if (!shopper) return;
    shopper.busyUntil = 0;
    if (action === 'cart' && status === 201) shopper.items += 1;
    else if ((action === 'clear' && status === 204) || (action === 'checkout' && status === 201)) {
      shopper.items = 0;
      shopper.mustClear = false;
    } else shopper.mustClear = true;
  }

  return {
    /**
     * Empties every shopper's cart through the API before the first run, so the run starts from known carts
     * instead of spending its first seconds on a thousand DELETEs.
     */
    async emptyCarts(baseUrl: string): Promise<void> {
      const queue = [...shoppers];
      const worker = async () => {
        for (let shopper = queue.pop(); shopper; shopper = queue.pop()) {
          const answer = await fetch(`${baseUrl}/api/cart/`, {
            method: 'DELETE',
            headers: { authorization: shopper.authorization },
          });
          await answer.arrayBuffer();
          if (answer.status !== 204) throw new Error(`DELETE /api/cart/ answered ${answer.status}`);
          shopper.items = 0;
          shopper.mustClear = false;
          shopper.busyUntil = 0;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    },
    /** The autocannon request list of this mix. */
    requests: [{ setupRequest, onResponse }] as Request[],
    /** Starts counting afresh (a run after its warm-up); returns the tally the run fills. */
    startTally(): MixTally {
      tally = emptyTally();
      return tally;
    },
  };
}
