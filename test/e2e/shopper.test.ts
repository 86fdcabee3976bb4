import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { journey, launchBrowser, pageErrors, screenshot, type TestBrowser } from './browser.js';
import { type RunningBazaar, startBazaar } from './server.js';

interface Summary {
  id: number;
  name: string;
  stock_quantity: number;
}

/** The path and query of the reset link in the .eml written for `to` (quoted-printable undone). */
async function mailedResetLink(dataDir: string, to: string): Promise<string> {
  const folder = path.join(dataDir, 'mail');
  for (let i = 0; i < 60; i += 1) {
    const files = existsSync(folder) ? readdirSync(folder) : [];
    for (const file of files) {
      const text = readFileSync(path.join(folder, file), 'utf8')
        .replace(/=\r?\n/g, '')
        .replace(/=3D/g, '=');
      const link = /https?:\/\/[^/\s]+(\/reset-password\?token=[A-Za-z0-9_-]+)/.exec(text)?.[1];
      if (text.includes(to) && link) return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no password reset mail for ${to} in ${folder}`);
}

// A shopper's whole journey through the storefront, against the real API: register, search, cart, checkout
// with the test cards, and the order's live status.
describe('shopper journey (Chromium)', () => {
  let bazaar: RunningBazaar;
  let browser: TestBrowser;
  let page: Page;
  let errors: Error[];
  const step = journey();
  let products: Summary[];
  const name = `shopper${Date.now().toString(36)}`;

  before(async () => {
    [bazaar, browser] = await Promise.all([startBazaar(), launchBrowser()]);
    page = await browser.context.newPage();
    errors = pageErrors(page);
    const res = await fetch(`${bazaar.url}/api/products/?in_stock=true&sort=name&limit=100`);
    const items = ((await res.json()) as { items: Summary[] }).items;
    products = items.filter((p) => p.stock_quantity >= 5).slice(0, 2);
    assert.equal(products.length, 2);
  });
  after(async () => {
    await browser?.close();
    await bazaar?.stop();
  });

  const stockOf = async (id: number) => {
    const res = await fetch(`${bazaar.url}/api/products/${id}/`);
    return ((await res.json()) as Summary).stock_quantity;
  };

  async function findAndAdd(product: Summary, quantity: number) {
    await page.getByRole('searchbox', { name: 'Search products' }).fill(product.name);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { level: 1, name: `Results for “${product.name}”` }).waitFor();
    await page.getByRole('link', { name: product.name, exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: product.name }).waitFor();
    await page.getByLabel('Quantity').fill(String(quantity));
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByText(`Added ${quantity} to your cart.`).waitFor();
  }

  async function checkout(token: string) {
    await page.getByRole('link', { name: /^Cart, \d+ items$/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Cart' }).waitFor();
    await page.getByRole('link', { name: 'Checkout' }).click();
    await page.getByRole('heading', { level: 1, name: 'Checkout' }).waitFor();
    await page.locator(`#card-${token}`).check();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/\d+$/);
    return Number(/\/orders\/(\d+)$/.exec(page.url())?.[1]);
  }

  step('registers a new account and is signed in', async () => {
    await page.goto(`${bazaar.url}/register`);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Email').fill(`${name}@example.com`);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: `Log out ${name}` }).waitFor();
  });

  step('searches, adds two products to the cart and sees both lines with the total', async () => {
    await findAndAdd(products[0] as Summary, 2);
    await findAndAdd(products[1] as Summary, 1);
    await page.getByRole('link', { name: 'Cart, 3 items' }).click();
    const rows = page.locator('table.table tbody tr');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    assert.match(await page.locator('.total').innerText(), /Total: \$\d+\.\d{2}/);
    await screenshot(page, 'storefront-cart');
  });

  step('checks out with tok_visa and watches the order become paid', async () => {
    const before = await stockOf((products[0] as Summary).id);
    const orderId = await checkout('tok_visa');
    await page.getByRole('heading', { level: 1, name: `Order #${orderId}` }).waitFor();
    await page.locator('.order-status .status-paid').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('.order-status').innerText(), /Paid/);
    assert.equal(await stockOf((products[0] as Summary).id), before - 2);
    await screenshot(page, 'storefront-order-paid');
    await page.getByRole('link', { name: 'Cart, 0 items' }).waitFor();
  });

  step('shows a tok_declined checkout failing, and the stock comes back', async () => {
    const product = products[1] as Summary;
    const before = await stockOf(product.id);
    await findAndAdd(product, 2);
    const orderId = await checkout('tok_declined');
    await page.getByRole('heading', { level: 1, name: `Order #${orderId}` }).waitFor();
    await page.locator('.order-status .status-canceled').waitFor({ timeout: 30_000 });
    await page.getByText(/payment was declined/).waitFor();
    await screenshot(page, 'storefront-order-declined');
    await page.goto(`${bazaar.url}/products/${product.id}`);
    await page.getByTestId('stock').getByText(`${before} in stock`).waitFor();
    assert.equal(await stockOf(product.id), before);
  });

  step('lists the orders with their status', async () => {
    await page.goto(`${bazaar.url}/orders`);
    await page.getByRole('heading', { level: 1, name: 'Your orders' }).waitFor();
    await page.locator('.rows li').nth(1).waitFor();
    const text = await page.locator('.rows').innerText();
    assert.match(text, /Paid/);
    assert.match(text, /Canceled/);
  });

  step('keeps the session across a reload through the refresh token, and logs out', async () => {
    await page.reload();
    const logout = page.getByRole('button', { name: /^Log out / });
    await logout.waitFor();
    await logout.click();
    const login = page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Log in' });
    await login.waitFor();
    await page.reload();
    await login.waitFor();
  });

  step('reviews a product and saves another to the wishlist', async () => {
    const [first, second] = products as [Summary, Summary];
    await page.goto(`${bazaar.url}/login`);
    await page.getByLabel('Username or email').fill(name);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: `Log out ${name}` }).waitFor();
    await page.goto(`${bazaar.url}/products/${first.id}`);
    await page.getByLabel('Rating', { exact: true }).selectOption('4');
    await page.getByLabel('Comment').fill('Sturdy and well made.');
    await page.getByRole('button', { name: 'Publish review' }).click();
    await page.getByText('Sturdy and well made.').waitFor();
    await page.getByRole('img', { name: 'Rated 4.0 out of 5 by 1' }).first().waitFor();
    await page.goto(`${bazaar.url}/products/${second.id}`);
    await page.getByRole('button', { name: 'Add to wishlist' }).click();
    await page.getByText('Saved to your wishlist.').waitFor();
    await page.getByRole('link', { name: 'Wishlist' }).click();
    await page.getByRole('link', { name: second.name }).waitFor();
  });

  step('resets a forgotten password with the mailed link and logs in with the new one', async () => {
    await page.getByRole('button', { name: `Log out ${name}` }).click();
    await page.goto(`${bazaar.url}/password-reset`);
    await page.getByLabel('Email').fill(`${name}@example.com`);
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    await page.getByText(/a reset link is on its way/).waitFor();
    const link = await mailedResetLink(bazaar.dataDir, `${name}@example.com`);
    await page.goto(`${bazaar.url}${link}`);
    await page.getByLabel('New password').fill('a brand new secret');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { level: 1, name: 'Password changed' }).waitFor();
    await page.goto(`${bazaar.url}/login`);
    await page.getByLabel('Username or email').fill(`${name}@example.com`);
    await page.getByLabel('Password').fill('a brand new secret');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: `Log out ${name}` }).waitFor();
  });

  it('ran without an uncaught error in the page', () => {
    assert.deepEqual(
      errors.map((error) => error.message),
      [],
    );
  });
});
