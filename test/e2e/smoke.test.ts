// Callbacks given to page.evaluate run in the browser, so this file also sees the DOM types.
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, pageErrors, screenshot, type TestBrowser } from './browser.js';
import { type RunningBazaar, startBazaar } from './server.js';

// The storefront and the manager's door on the catalog alone: what works before any account exists.
describe('web app smoke (Chromium)', () => {
  let bazaar: RunningBazaar;
  let browser: TestBrowser;
  let page: Page;
  let errors: Error[];

  before(async () => {
    [bazaar, browser] = await Promise.all([startBazaar(), launchBrowser()]);
    page = await browser.context.newPage();
    errors = pageErrors(page);
  });
  after(async () => {
    await browser?.close();
    await bazaar?.stop();
  });

  it('loads the storefront and lists demo products with prices', async () => {
    await page.goto(`${bazaar.url}/`);
    await page.getByRole('heading', { level: 1, name: 'All products' }).waitFor();
    const cards = page.getByRole('list', { name: 'Products' }).getByRole('listitem');
    await cards.first().waitFor();
    assert.equal(await cards.count(), 24);
    assert.match(await cards.first().innerText(), /\$\d+\.\d{2}/);
    assert.ok(await page.getByRole('link', { name: 'Next page »' }).isVisible());
    await screenshot(page, 'storefront-home');
  });

  it('opens with a skip link first in the keyboard order', async () => {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    assert.equal(focused, 'Skip to content');
  });

  it('navigates the category tree and shows that category’s products', async () => {
    const nav = page.getByRole('navigation', { name: 'Categories' });
    const first = nav.getByRole('link').nth(1);
    const name = await first.innerText();
    await first.click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    assert.match(page.url(), /[?&]category=\d+/);
    assert.equal(await nav.locator('[aria-current="page"]').innerText(), name);
    // The selected category opens to show its subcategories.
    const child = nav.getByRole('link').nth(2);
    const childName = await child.innerText();
    await child.click();
    await page.getByRole('heading', { level: 1, name: childName }).waitFor();
    await page.getByRole('list', { name: 'Products' }).getByRole('listitem').first().waitFor();
  });

  it('searches, sorts by price and pages with the next cursor', async () => {
    await page.goto(`${bazaar.url}/?sort=price`);
    const cards = page.getByRole('list', { name: 'Products' }).getByRole('listitem');
    await cards.first().waitFor();
    const firstPage = await cards.first().innerText();
    await page.getByRole('link', { name: 'Next page »' }).click();
    await page.waitForURL(/cursor=/);
    await page.waitForFunction((text) => {
      const item = document.querySelector('.grid li');
      return item !== null && (item as HTMLElement).innerText !== text;
    }, firstPage);
    await page.getByRole('searchbox', { name: 'Search products' }).fill('lamp');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { level: 1, name: 'Results for “lamp”' }).waitFor();
    await cards.first().waitFor();
    for (const text of await cards.allInnerTexts()) assert.match(text, /lamp/i);
  });

  it('renders a product page with its price, stock and rating', async () => {
    const card = page.getByRole('list', { name: 'Products' }).getByRole('listitem').first();
    const name = (await card.locator('.card-name').innerText()).trim();
    await card.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    assert.match(await page.locator('.price').innerText(), /^\$\d+\.\d{2}$/);
    assert.match(await page.getByTestId('stock').innerText(), /in stock|Out of stock/);
    assert.ok(
      await page
        .getByRole('img', { name: /Rated|No ratings yet/ })
        .first()
        .isVisible(),
    );
    await screenshot(page, 'storefront-product');
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${bazaar.url}/`);
    await phone.getByRole('list', { name: 'Products' }).getByRole('listitem').first().waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await screenshot(phone, 'storefront-phone');
    await phone.close();
  });

  it('shows the manager login form at /manage', async () => {
    await page.goto(`${bazaar.url}/manage`);
    await page.getByRole('heading', { level: 1, name: 'Manager login' }).waitFor();
    assert.ok(await page.getByLabel('Username or email').isVisible());
    assert.ok(await page.getByLabel('Password').isVisible());
    await screenshot(page, 'manage-login');
  });

  it('ran without an uncaught error in the page', () => {
    assert.deepEqual(
      errors.map((error) => error.message),
      [],
    );
  });
});
