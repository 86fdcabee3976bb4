// Takes the README's pictures of the web app: a fresh embedded Bazaar with the demo catalog, a few hundred
// seeded orders for the dashboard, and generated pictures on the newest products; then Chromium photographs
// the storefront and the manager dashboard into docs/images/.
//   node --import tsx scripts/web-screenshots.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { launchBrowser } from '../test/e2e/browser.js';
import { exitOf, runCli, startCli, waitForOutput } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/ports.js';

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));
const COLORS = ['#c05a1a', '#1f4e79', '#2f7d4f', '#8a3b8f', '#b08900', '#3b6e8f', '#a4161a', '#4d5661'];

async function serve(env: Record<string, string>) {
  const child = startCli(['serve'], env);
  const output = await waitForOutput(child, /Bazaar is serving/, 180_000);
  return { child, output };
}

async function addPictures(base: string, email: string, password: string) {
  const login = await fetch(`${base}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const { access } = (await login.json()) as { access: string };
  const list = await fetch(`${base}/api/products/?limit=8`);
  const { items } = (await list.json()) as { items: { id: number; name: string }[] };
  for (const [index, product] of items.entries()) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="804" height="600">
      <rect width="804" height="600" fill="${COLORS[index % COLORS.length]}"/>
      <circle cx="402" cy="300" r="180" fill="#ffffff33"/></svg>`;
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    const form = new FormData();
    form.append('file', new Blob([png], { type: 'image/png' }), 'picture.png');
    await fetch(`${base}/api/products/${product.id}/images/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}` },
      body: form,
    });
  }
  // The thumbnails are made in the background: wait until the last one is ready.
  for (let i = 0; i < 120; i += 1) {
    const res = await fetch(`${base}/api/products/?limit=8`);
    const page = (await res.json()) as { items: { thumbnail_url: string | null }[] };
    if (page.items.every((item) => item.thumbnail_url !== null)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'bazaar-shots-'));
const port = String(await freePort());
const env = { DATA_DIR: dataDir, PORT: port, RATE_LIMIT_FACTOR: '0' };
const first = await serve(env);
const [, email, password] = /email (\S+)\s+password (\S+)/.exec(first.output) ?? [];
first.child.kill('SIGTERM');
await exitOf(first.child);
const seeded = await runCli(['seed', '--products', '0', '--users', '40', '--orders', '600'], env, 600_000);
if (seeded.code !== 0) throw new Error(seeded.stderr);

const { child } = await serve(env);
const base = `http://127.0.0.1:${port}`;
const browser = await launchBrowser();
try {
  await addPictures(base, email as string, password as string);
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  await page.locator('.grid img.thumb').first().waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: path.join(OUT, 'storefront.png') });
  await page.goto(`${base}/manage`);
  await page.getByLabel('Username or email').fill(email as string);
  await page.getByLabel('Password').fill(password as string);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('img', { name: /Revenue per day/ }).waitFor();
  await page.screenshot({ path: path.join(OUT, 'manager-dashboard.png') });
  console.log(`wrote ${OUT}storefront.png and ${OUT}manager-dashboard.png`);
} finally {
  await browser.close();
  child.kill('SIGTERM');
  await exitOf(child);
  rmSync(dataDir, { recursive: true, force: true });
}
