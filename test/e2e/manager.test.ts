// Callbacks given to page.evaluate run in the browser, so this file also sees the DOM types.
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { journey, launchBrowser, pageErrors, screenshot, type TestBrowser } from './browser.js';
import { type RunningBazaar, startBazaar } from './server.js';

/** A customer's order through the API, paid with tok_visa: the manager's orders view then has work to do. */
async function placePaidOrder(base: string, productId: number): Promise<number> {
  const call = async (method: string, url: string, token: string | null, body?: unknown, headers = {}) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${url}: ${res.status} ${await res.clone().text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const name = `buyer${Date.now().toString(36)}`;
  const account = await call('POST', '/api/auth/register/', null, {
    username: name,
    email: `${name}@example.com`,
    password: 'correct horse battery',
  });
  const token = account.access as string;
  await call('POST', '/api/cart/items/', token, { product_id: productId, quantity: 1 });
  const order = await call(
    'POST',
    '/api/orders/',
    token,
    { payment_method: 'card', payment_token: 'tok_visa' },
    { 'idempotency-key': `e2e-${name}` },
  );
  for (let i = 0; i < 60; i += 1) {
    const current = await call('GET', `/api/orders/${order.id}/`, token);
    if (current.order_status === 'paid') return order.id as number;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`order ${order.id} did not become paid`);
}

// The manager creates a product with a picture in /manage; a shopper then finds it with its thumbnail.
describe('manager creates a product with a picture (Chromium)', () => {
  let bazaar: RunningBazaar;
  let browser: TestBrowser;
  let page: Page;
  let errors: Error[];
  const step = journey();
  let scratch: string;
  let productId = 0;
  const name = `Aurora Test Teapot ${Date.now().toString(36).toUpperCase()}`;

  before(async () => {
    [bazaar, browser] = await Promise.all([startBazaar(), launchBrowser()]);
    page = await browser.context.newPage();
    errors = pageErrors(page);
    scratch = mkdtempSync(path.join(tmpdir(), 'bazaar-e2e-image-'));
  });
  after(async () => {
    await browser?.close();
    await bazaar?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  step('logs in at /manage with the demo manager account and sees the dashboard', async () => {
    await page.goto(`${bazaar.url}/manage`);
    await page.getByLabel('Username or email').fill(bazaar.manager.email);
    await page.getByLabel('Password').fill(bazaar.manager.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await page.getByRole('img', { name: /Revenue per day/ }).waitFor();
    await page.getByRole('heading', { name: 'Low stock' }).waitFor();
    await screenshot(page, 'manage-dashboard');
  });

  step('creates a product', async () => {
    await page.getByRole('link', { name: 'Products', exact: true }).click();
    await page.getByRole('link', { name: 'New product' }).click();
    await page.getByRole('heading', { level: 1, name: 'New product' }).waitFor();
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Description').fill('A teapot that glows softly while it brews.');
    await page.getByLabel('Price').fill('24.50');
    await page.getByLabel('Stock').fill('12');
    const category = page.getByLabel('Category');
    const firstCategory = await category.locator('option:not([disabled])').first().getAttribute('value');
    await category.selectOption(firstCategory as string);
    await page.getByRole('button', { name: 'Create product' }).click();
    await page.waitForURL(/\/manage\/products\/\d+$/);
    productId = Number(/(\d+)$/.exec(page.url())?.[1]);
    await page.getByRole('heading', { level: 1, name: `Edit ${name}` }).waitFor();
  });

  step('uploads a picture and waits for its 268x200 thumbnail', async () => {
    const file = path.join(scratch, 'teapot.png');
    const png = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#c05a1a' } })
      .png()
      .toBuffer();
    writeFileSync(file, png);
    await page.getByLabel(/Add a picture/).setInputFiles(file);
    await page.getByRole('button', { name: 'Upload' }).click();
    const ready = page.locator('.image-status-ready img');
    await ready.waitFor({ timeout: 60_000 });
    const size = await ready.evaluate((img) => [
      (img as HTMLImageElement).naturalWidth,
      (img as HTMLImageElement).naturalHeight,
    ]);
    assert.deepEqual(size, [268, 200]);
    await screenshot(page, 'manage-product');
  });

  step('lets a shopper find the product with its 268x200 picture', async () => {
    // Another browser profile: the shopper is nobody's session, just a visitor.
    const visitor = await launchBrowser();
    const shop = await visitor.context.newPage();
    await shop.goto(`${bazaar.url}/`);
    await shop.getByRole('searchbox', { name: 'Search products' }).fill(name);
    await shop.getByRole('button', { name: 'Search' }).click();
    const card = shop.getByRole('list', { name: 'Products' }).getByRole('listitem').filter({ hasText: name });
    const picture = card.locator('img.thumb');
    await picture.waitFor();
    await picture.scrollIntoViewIfNeeded();
    await shop.waitForFunction(
      (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0,
      await picture.elementHandle(),
    );
    const size = await picture.evaluate((img) => [
      (img as HTMLImageElement).naturalWidth,
      (img as HTMLImageElement).naturalHeight,
    ]);
    assert.deepEqual(size, [268, 200]);
    await screenshot(shop, 'storefront-new-product');
    await card.getByRole('link').first().click();
    await shop.getByRole('heading', { level: 1, name }).waitFor();
    assert.match(await shop.locator('.price').innerText(), /\$24\.50/);
    assert.ok(productId > 0);
    await visitor.close();
  });

  step('moves a paid order to shipped, then delivered, from the orders view', async () => {
    const orderId = await placePaidOrder(bazaar.url, productId);
    await page.getByRole('link', { name: 'Orders', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Orders' }).waitFor();
    await page.getByRole('button', { name: `Mark shipped order ${orderId}` }).click();
    await page.getByRole('link', { name: 'Shipped' }).click();
    await page.getByRole('button', { name: `Mark delivered order ${orderId}` }).click();
    await page.getByRole('link', { name: 'Delivered' }).click();
    await page.getByRole('cell', { name: `#${orderId}` }).waitFor();
    await screenshot(page, 'manage-orders');
  });

  it('ran without an uncaught error in the page', () => {
    assert.deepEqual(
      errors.map((error) => error.message),
      [],
    );
  });
});
