import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ci } from './engines.js';
import { freePort } from './ports.js';

/**
 * A real Prometheus (the Debian package) for tests: own config, own storage in a temp folder, a spare port,
 * scraping every second. Missing binaries skip a suite locally and fail it in CI.
 */

export function findBinary(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (found === '' && ci)
    throw new Error(`${name} must be installed when CI=true (Debian package prometheus)`);
  return found === '' ? undefined : found;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: PromSample[] };
}

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<QueryAnswer>;
  /** The value of a query answering one sample, polled until check(value) holds; throws after timeoutMs. */
  waitForValue(expr: string, check: (value: number) => boolean, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface ScrapeTarget {
  job: string;
  target: string;
}

export async function startPrometheus(targets: ScrapeTarget[]): Promise<RunningPrometheus> {
  const binary = findBinary('prometheus');
  if (!binary) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-prometheus-'));
  const jobs = targets.map(
    ({ job, target }) =>
      `  - job_name: ${job}\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:${jobs.length === 0 ? ' []' : ''}\n${jobs.join('')}`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });

  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 30 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const query = async (expr: string): Promise<QueryAnswer> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    return (await res.json()) as QueryAnswer;
  };

  const waitForValue = async (expr: string, check: (value: number) => boolean, timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    let last: QueryAnswer | undefined;
    for (;;) {
      last = await query(expr);
      const sample = last.data?.result[0];
      if (sample && check(Number(sample.value[1]))) return Number(sample.value[1]);
      if (Date.now() > until)
        throw new Error(`${expr}: no satisfying value; last answer ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  return { url, query, waitForValue, stop };
}
