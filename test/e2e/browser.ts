import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`, listed in .ci/run), never a downloaded browser build. */
export const CHROMIUM = '/usr/bin/chromium';

export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export interface TestBrowser {
  /** One browser profile (a new empty --user-data-dir): its pages share cookies and localStorage. */
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'bazaar-chromium-'));
  // Playwright passes the profile as --user-data-dir itself when the context is persistent.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Fail a missing element in 15 s rather than Playwright's 30: waits that need longer say so.
  context.setDefaultTimeout(15_000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A free TCP port on the loopback interface, for a server the test starts as a separate process. */

/** Saves a full-page screenshot under test-artifacts/ (gitignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Collects uncaught page errors and Content Security Policy refusals, so a test can assert there were none. */
export function pageErrors(page: Page): Error[] {
  const errors: Error[] = [];
  page.on('pageerror', (error) => errors.push(error));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/.test(message.text())) {
      errors.push(new Error(message.text()));
    }
  });
  return errors;
}

/**
 * Steps of one journey, each a test: once a step fails, the later ones fail at once (naming it) instead of
 * waiting out their timeouts on a page that never got where they start.
 */
export function journey(): (name: string, fn: () => Promise<void>) => void {
  let failed: string | null = null;
  return (name, fn) =>
    it(name, async () => {
      if (failed !== null) throw new Error(`not run: the earlier step "${failed}" failed`);
      try {
        await fn();
      } catch (error) {
        failed = name;
        throw error;
      }
    });
}
