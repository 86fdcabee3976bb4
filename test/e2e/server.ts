import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exitOf, startCli, waitForOutput } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

export interface RunningBazaar {
  url: string;
  dataDir: string;
  manager: { email: string; password: string };
  stop(): Promise<void>;
}

/**
 * `bazaar serve` as a user runs it: embedded mode on a fresh DATA_DIR, so the first start migrates, loads the
 * demo catalog and prints the demo manager's generated password, which the tests read from the output.
 */
export async function startBazaar(): Promise<RunningBazaar> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bazaar-e2e-'));
  const port = await freePort();
  // RATE_LIMIT_FACTOR=0: a test logs in and registers faster than any person would.
  const child: ChildProcess = startCli(['serve'], {
    DATA_DIR: dataDir,
    PORT: String(port),
    RATE_LIMIT_FACTOR: '0',
  });
  const output = await waitForOutput(child, /Bazaar is serving/, 180_000);
  const found = /email (\S+)\s+password (\S+)/.exec(output);
  if (!found?.[1] || !found[2]) throw new Error(`no demo manager account in the output:\n${output}`);
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    manager: { email: found[1], password: found[2] },
    stop: async () => {
      child.kill('SIGTERM');
      await exitOf(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
