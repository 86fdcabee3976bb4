import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('keeps the storefront initial JavaScript under 150 KB gzipped', () => {
  const run = spawnSync(process.execPath, ['scripts/web-size.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const match = /storefront initial JavaScript: ([\d.]+) KB gzipped/.exec(run.stdout);
  assert.ok(match, run.stdout);
  assert.ok(Number(match[1]) < 150);
});
