import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../../src/platform/db/index.js';
import type { TestApp } from '../helpers/app.js';
import { insertUser } from '../helpers/fixtures.js';

/** Shared steps of the cart and order suites: shoppers, carts, checkouts, a fast job runner, the mailbox. */

export interface Shopper {
  id: number;
  auth: { authorization: string };
}

export async function newShopper(t: TestApp, db: Database, role: 'customer' | 'manager' = 'customer') {
  const user = await insertUser(db, role);
  return { id: user.id, auth: { authorization: `Bearer ${t.tokenFor(user)}` } } satisfies Shopper;
}

export async function addToCart(t: TestApp, shopper: Shopper, productId: number, quantity: number) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/cart/items/',
    headers: shopper.auth,
    payload: { product_id: productId, quantity },
  });
  if (res.statusCode !== 201) throw new Error(`add to cart: ${res.statusCode} ${res.body}`);
  return res.json();
}

let keyCounter = 0;
export function newKey(): string {
  keyCounter += 1;
  return `key-${process.pid}-${keyCounter}`;
}

export function checkout(t: TestApp, shopper: Shopper, token = 'tok_visa', key = newKey()) {
  return t.app.inject({
    method: 'POST',
    url: '/api/orders/',
    headers: { ...shopper.auth, 'idempotency-key': key },
    payload: { payment_method: 'card', payment_token: token },
  });
}

export { fastRunner } from '../helpers/jobs.js';

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The mails written under DATA_DIR/mail (no SMTP_URL), as raw messages. */
export function mailbox(dataDir: string): string[] {
  const dir = path.join(dataDir, 'mail');
  try {
    return readdirSync(dir)
      .sort()
      .map((name) => readFileSync(path.join(dir, name), 'utf8'));
  } catch {
    return [];
  }
}

export async function orderState(db: Database, orderId: number) {
  const { rows } = await db.query<{ order_status: string; payment_status: string }>(
    `SELECT o.order_status, p.status AS payment_status
       FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.id = $1`,
    [orderId],
  );
  return rows[0] as { order_status: string; payment_status: string };
}

export async function stockOf(db: Database, productId: number): Promise<number> {
  const { rows } = await db.query<{ stock_quantity: number }>(
    'SELECT stock_quantity FROM products WHERE id = $1',
    [productId],
  );
  return (rows[0] as { stock_quantity: number }).stock_quantity;
}
