import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

export interface Stack {
  env: Record<string, string>;
  dir: string;
  /** Runs a command as the PostgreSQL owner (pg_ctl, psql), like the stack script does. */
  pg(binary: string, args: string[]): Promise<string>;
  down(): Promise<void>;
}

/**
 * `scripts/stack up` in a temporary directory, running Bazaar from the sources (tsx), so a test drives the
 * same stack a person starts by hand. instances 0 gives the databases only.
 */
export async function startStack(options: { instances: number; seed?: string }): Promise<Stack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-stack-'));
  const env = {
    ...process.env,
    STACK_DIR: dir,
    BAZAAR: 'node --import tsx src/main.ts',
    REDIS_URL: process.env.TEST_REDIS_URL ?? '',
    AMQP_URL: process.env.TEST_AMQP_URL ?? '',
  };
  const args = ['up', '--instances', String(options.instances)];
  if (options.seed) args.push('--seed', options.seed);
  const down = async () => {
    await run(path.join(ROOT, 'scripts/stack'), ['down'], { env, cwd: ROOT }).catch(() => {});
  };
  try {
    await run(path.join(ROOT, 'scripts/stack'), args, { env, cwd: ROOT, timeout: 180_000 });
  } catch (error) {
    await down();
    throw error;
  }
  const values: Record<string, string> = {};
  for (const line of readFileSync(path.join(dir, 'stack.env'), 'utf8').split('\n')) {
    const match = /^([A-Z_0-9]+)=(.*)$/.exec(line);
    // The script writes values with printf %q; none of them holds a space except BAZAAR's escaped ones.
    if (match?.[1] && match[2] !== undefined) values[match[1]] = match[2].replaceAll('\\ ', ' ');
  }
  const pg = async (binary: string, pgArgs: string[]) => {
    const file = path.join(values.PG_BIN ?? '/usr/lib/postgresql/15/bin', binary);
    const asRoot = process.getuid?.() === 0;
    const { stdout } = await run(
      asRoot ? 'runuser' : file,
      asRoot ? ['-u', 'postgres', '--', file, ...pgArgs] : pgArgs,
      {
        cwd: '/tmp',
        timeout: 60_000,
      },
    );
    return stdout;
  };
  return { env: values, dir, pg, down };
}
