/**
 * CPU per request of the ceiling and of one or more builds of the API, loaded in alternation: the A/B behind
 * docs/performance_tuning.md's items 15 and 16. This machine's speed drifts by tens of percent within a
 * minute, so two builds are compared only in alternating rounds, by the CPU time each process spent (from
 * /proc) per request it answered, not by req/s measured minutes apart.
 *
 *   BENCH_DATABASE_URL=postgres://... npx tsx bench/cpu-per-request.ts dist other/dist
 *
 * Each argument is a compiled `dist/` directory (a copy of an older build sits beside package.json, e.g. in
 * .scratch/old/, with package.json, web and migrations linked); one process is started per argument, each with
 * a Redis database of its own (BENCH_REDIS_URL, default redis://127.0.0.1:6379, databases 5 and up). The
 * database must hold products (`bazaar bench` builds one). BENCH_ROUNDS (9) rounds of BENCH_SLICE (1.5) seconds
 * per target, the order rotated by one place every round; BENCH_RATE (0: as fast as it goes) fixes the rate
 * instead. Every build gets a /healthz read every 500 ms throughout: a build left without requests for 2 s runs
 * its idle collection (idle-gc.ts), a full GC that would compete with the process being measured.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { procStat, startApi, startCeiling, stopProcess } from './processes.js';

const databaseUrl = process.env.BENCH_DATABASE_URL;
const builds = process.argv.slice(2);
if (!databaseUrl || builds.length === 0) {
  process.stderr.write('usage: BENCH_DATABASE_URL=... npx tsx bench/cpu-per-request.ts DIST [DIST...]\n');
  process.exit(2);
}
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const slice = Number(process.env.BENCH_SLICE ?? 1.5);
const rate = Number(process.env.BENCH_RATE ?? 0);
const dataDir = mkdtempSync(path.join(tmpdir(), 'bazaar-cpu-'));
/** BENCH_REDIS_URL with its database number replaced: each build caches apart. */
const redisDatabase = (database: number) => {
  const url = new URL(redisUrl);
  url.pathname = `/${database}`;
  return url.href;
};

interface Target {
  name: string;
  child: ChildProcess;
  url: string;
  microseconds: number[];
  requests: number;
}

async function startBuild(dist: string, index: number): Promise<Target> {
  const env = {
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl as string,
    REDIS_URL: redisDatabase(5 + index),
    JWT_SECRET: 'cpu-per-request-'.repeat(4),
    RATE_LIMIT_FACTOR: '0',
    LOG_LEVEL: 'info',
  };
  const { child, url } = await startApi(env, path.resolve(dist));
  return { name: `${index + 1}: ${dist}`, child, url, microseconds: [], requests: 0 };
}

const targets: Target[] = [];
try {
  for (const [index, dist] of builds.entries()) targets.push(await startBuild(dist, index));
  const first = targets[0] as Target;
  const page = (await (await fetch(`${first.url}/api/products/?limit=1`)).json()) as {
    items: { id: number }[];
  };
  const hot = `/api/products/${page.items[0]?.id}/`;
  // The first read fills the cache and hands the URL to the front door, which answers the reads after it.
  for (const target of targets)
    for (let read = 0; read < 3; read += 1) await (await fetch(target.url + hot)).arrayBuffer();
  const ceiling = await startCeiling(await fetch(first.url + hot));
  targets.unshift({ name: 'ceiling', child: ceiling.child, url: ceiling.url, microseconds: [], requests: 0 });

  const apis = targets.slice(1);
  const keepAwake = setInterval(() => {
    for (const api of apis)
      fetch(`${api.url}/healthz`).then(
        (response) => response.arrayBuffer(),
        () => undefined,
      );
  }, 500).unref();
  for (let round = 0; round < rounds; round += 1) {
    const shift = round % targets.length;
    for (const target of [...targets.slice(shift), ...targets.slice(0, shift)]) {
      const pid = target.child.pid as number;
      const before = procStat(pid)?.cpuSeconds ?? 0;
      const run = await autocannon({
        connections: 20,
        url: target.url + hot,
        duration: slice,
        ...(rate > 0 ? { overallRate: rate } : {}),
      });
      const spent = (procStat(pid)?.cpuSeconds ?? 0) - before;
      target.microseconds.push((spent * 1e6) / Math.max(1, run.requests.total));
      target.requests += run.requests.total;
      if (run.errors + run.timeouts + run.non2xx > 0)
        process.stderr.write(`${target.name}: faults in round ${round}\n`);
    }
  }
  clearInterval(keepAwake);
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const ceilingRequests = targets[0]?.requests ?? 1;
  for (const target of targets) {
    process.stdout.write(
      `${target.name.padEnd(28)} ${median(target.microseconds).toFixed(1).padStart(7)} µs CPU per request (median round)  ${Math.round((100 * target.requests) / ceilingRequests)}% of the ceiling's requests\n`,
    );
  }
} finally {
  for (const target of targets) await stopProcess(target.child);
  rmSync(dataDir, { recursive: true, force: true });
}
