/**
 * `bazaar import` on PostgreSQL, timed by wall clock and by CPU. Each run creates a database of its own
 * (bazaar_import_bench_PID, dropped afterwards), migrates it, and runs `bazaar import DIR` in its own process.
 * While it runs, /proc is sampled every 50 ms for the CPU seconds (user + system) of the node process, of the
 * PostgreSQL backends connected to that database and of their parallel workers, and of the cluster's auxiliary
 * processes (checkpointer, WAL writer, background writer: shared with anything else on the server, so only
 * indicative), and the database's CPU by the statement running. On a machine shared with other work, compare
 * variants by CPU seconds as well as wall seconds.
 *
 *   node --import tsx bench/generate-catalog-csv.ts /tmp/catalog 1000000
 *   BENCH_RUNS=3 npx tsx bench/import.ts /tmp/catalog
 *
 * ADMIN_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres) names the server.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../src/platform/db/index.js';
import { openPostgres } from '../src/platform/db/postgres.js';
import { adminQuery, procStat, ROOT } from './processes.js';

const dir = path.resolve(process.argv[2] ?? '');
if (!process.argv[2]) {
  process.stderr.write('usage: import.ts DIR\n');
  process.exit(2);
}
const adminUrl = process.env.ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const runs = Number(process.env.BENCH_RUNS ?? 1);

const admin = (sql: string) => adminQuery(adminUrl, sql);

interface Proc {
  cmdline: string;
  ppid: number;
  cpu: number;
}

function readProc(pid: number): Proc | null {
  const stat = procStat(pid);
  if (stat === null) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return { cmdline, ppid: stat.ppid, cpu: stat.cpuSeconds };
  } catch {
    return null;
  }
}

/**
 * The CPU seconds of every process of interest, by group, and of the database processes by the statement their
 * backend was running (the command tag in its process title: COPY, CREATE TABLE AS, INSERT, CREATE INDEX...),
 * sampled every 50 ms; a process that exits keeps its last reading.
 */
function watchCpu(nodePid: number, dbName: string, postmaster: number) {
  type Group = 'node' | 'backends' | 'auxiliary';
  const last = new Map<number, { group: Group; start: number; cpu: number }>();
  const byStatement = new Map<string, number>();
  const sample = () => {
    const backends = new Map<number, string>();
    const seen: [number, Proc][] = [];
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      const proc = readProc(pid);
      if (proc) seen.push([pid, proc]);
    }
    for (const [pid, proc] of seen) {
      if (proc.ppid === postmaster && proc.cmdline.includes(` ${dbName} `)) {
        backends.set(pid, /\(\d+\) (.*)$/.exec(proc.cmdline.trim())?.[1] ?? '?');
      }
    }
    for (const [pid, proc] of seen) {
      let group: Group | null = null;
      let statement: string | undefined;
      if (pid === nodePid) group = 'node';
      else if (backends.has(pid)) {
        group = 'backends';
        statement = backends.get(pid);
      } else if (proc.ppid === postmaster) {
        const leader = /parallel worker for PID (\d+)/.exec(proc.cmdline);
        if (leader && backends.has(Number(leader[1]))) {
          group = 'backends';
          statement = backends.get(Number(leader[1]));
        } else if (/checkpointer|walwriter|background writer/.test(proc.cmdline)) group = 'auxiliary';
      }
      if (group === null) continue;
      const known = last.get(pid);
      const previous = known?.cpu ?? (group === 'auxiliary' ? proc.cpu : 0);
      if (statement !== undefined) {
        byStatement.set(statement, (byStatement.get(statement) ?? 0) + proc.cpu - previous);
      }
      if (known) known.cpu = proc.cpu;
      else last.set(pid, { group, start: previous, cpu: proc.cpu });
    }
  };
  sample();
  const timer = setInterval(sample, 50);
  return () => {
    clearInterval(timer);
    sample();
    const totals = { node: 0, backends: 0, auxiliary: 0 };
    for (const { group, start, cpu } of last.values()) totals[group] += cpu - start;
    const statements = [...byStatement]
      .filter(([, cpu]) => cpu >= 0.05)
      .map(([statement, cpu]) => `${statement} ${cpu.toFixed(1)} s`)
      .join(', ');
    return { ...totals, statements };
  };
}

function postmasterPid(): number {
  for (const entry of readdirSync('/proc')) {
    const proc = Number.isInteger(Number(entry)) ? readProc(Number(entry)) : null;
    if (proc && /postgres .*-D \S*15\/main/.test(proc.cmdline) && proc.ppid === 1) return Number(entry);
  }
  throw new Error('no PostgreSQL 15/main postmaster found');
}

async function oneRun(run: number) {
  const dbName = `bazaar_import_bench_${process.pid}_${run}`;
  await admin(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  try {
    const db = await openPostgres({ url: url.toString(), poolSize: 1 });
    await migrate(db);
    await db.close();
    const load = loadavg()[0] ?? 0;
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'import', dir], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: url.toString(),
        JWT_SECRET: 'bench-import-secret-of-at-least-32-chars',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stop = watchCpu(child.pid as number, dbName, postmasterPid());
    let output = '';
    child.stdout.on('data', (data) => {
      output += data;
    });
    child.stderr.on('data', (data) => {
      output += data;
    });
    const [code] = await once(child, 'exit');
    const cpu = stop();
    const wall = (performance.now() - started) / 1000;
    const check = new pg.Client({ connectionString: url.toString() });
    await check.connect();
    const { rows } = await check.query('SELECT count(*)::integer AS products FROM products');
    await check.end();
    return { code, wall, cpu, load, loadAfter: loadavg()[0] ?? 0, products: rows[0].products, output };
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const results = [];
for (let run = 0; run < runs; run += 1) {
  const result = await oneRun(run);
  results.push(result);
  const { wall, cpu, load, loadAfter, products, code, output } = result;
  process.stdout.write(
    `run ${run + 1}: exit ${code}, ${products} products, wall ${wall.toFixed(1)} s, CPU node ${cpu.node.toFixed(1)} s, ` +
      `backends ${cpu.backends.toFixed(1)} s, auxiliary ${cpu.auxiliary.toFixed(1)} s; ` +
      `load ${load.toFixed(1)} -> ${loadAfter.toFixed(1)}\nDatabase CPU by statement: ${cpu.statements}\n` +
      `${output.trim()}\n`,
  );
}
if (runs > 1) {
  process.stdout.write(
    `median of ${runs}: wall ${median(results.map((r) => r.wall)).toFixed(1)} s, CPU node ` +
      `${median(results.map((r) => r.cpu.node)).toFixed(1)} s, backends ${median(results.map((r) => r.cpu.backends)).toFixed(1)} s\n`,
  );
}
