import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `bazaar bench [SCENARIO]` runs bench/run.ts, which needs the development dependencies (autocannon, tsx) and
 * the built server in dist/. Missing either is said plainly instead of failing half-way.
 */
export async function bench(args: string[]): Promise<number> {
  const require = createRequire(import.meta.url);
  const missing = ['autocannon', 'tsx'].filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(
      `bench needs the development dependencies (${missing.join(', ')} missing): run "npm ci" (without --omit=dev) first`,
    );
  }
  if (!existsSync(new URL('../../dist/main.js', import.meta.url)) || !existsSync(`${ROOT}bench/run.ts`)) {
    throw new Error('bench needs a source checkout with a build: run "npm run build" first');
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}
