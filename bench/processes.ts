import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../test/helpers/ports.js';

export { freePort };

/** The processes a benchmark run starts (API servers, the ceiling, Redis, nginx) and their memory. */

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** The resident set of a process, in MB (Linux /proc). */
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** From /proc/PID/stat: the parent's pid and the CPU seconds used so far (user + system); null once it exited. */
export function procStat(pid: number): { ppid: number; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    };
  } catch {
    return null;
  }
}

export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the RSS of some processes every 100 ms until stopped; returns each one's peak. */
export function watchRss(pids: (number | undefined)[]): () => number {
  let peak = 0;
  const sample = () => {
    for (const pid of pids) peak = Math.max(peak, rssMb(pid));
  };
  sample();
  const timer = setInterval(sample, 100);
  return () => {
    clearInterval(timer);
    sample();
    return Math.round(peak);
  };
}

export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await once(child, 'exit');
  clearTimeout(timer);
}

/** BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": Node's options for the servers a bench starts. */
export const serverNodeArgs = (): string[] =>
  (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * `bazaar serve` from dist/ (or another build's directory), its log lines (one per request, as in production)
 * sent to /dev/null.
 */
export async function startApi(
  env: Record<string, string>,
  dist = path.join(ROOT, 'dist'),
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const devNull = openSync('/dev/null', 'w');
  const child = spawn(process.execPath, [...serverNodeArgs(), path.join(dist, 'main.js'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', devNull, 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`);
  return { child, url };
}

/** Written by Node itself (Date, Connection, Keep-Alive) or by the transport: not replayed by the ceiling. */
const NODE_WRITES = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * The ceiling (bench/ceiling.mjs), answering the bytes of `answer`: its body and its headers, the API's own
 * keep-alive timeout included. Its request id is the one `answer` carried: the same length as any other.
 */
export async function startCeiling(answer: Response) {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-ceiling-'));
  const bodyFile = path.join(dir, 'body');
  const headersFile = path.join(dir, 'headers.json');
  writeFileSync(bodyFile, Buffer.from(await answer.arrayBuffer()));
  const headers: string[] = [];
  answer.headers.forEach((value, name) => {
    if (!NODE_WRITES.has(name)) headers.push(name, value);
  });
  writeFileSync(headersFile, JSON.stringify(headers));
  const keepAlive = /timeout=(\d+)/.exec(answer.headers.get('keep-alive') ?? '')?.[1] ?? '5';
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bench/ceiling.mjs'), String(port), bodyFile, headersFile, keepAlive],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url);
  return { child, url };
}

export async function startRedis(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const probe = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' });
    const [code] = await once(probe, 'exit');
    if (code === 0) return { child, url: `redis://127.0.0.1:${port}` };
    await sleep(100);
  }
  throw new Error('redis-server did not start');
}

/** nginx as a plain process (no systemd), with a generated configuration in a temporary prefix. */
export async function startNginx(upstreams: string[]): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const prefix = mkdtempSync(path.join(tmpdir(), 'bazaar-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  mkdirSync(path.join(prefix, 'temp'));
  chmodSync(prefix, 0o755);
  const servers = upstreams.map((url) => `    server ${new URL(url).host};`).join('\n');
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/temp/body;
  proxy_temp_path ${prefix}/temp/proxy;
  fastcgi_temp_path ${prefix}/temp/fastcgi;
  uwsgi_temp_path ${prefix}/temp/uwsgi;
  scgi_temp_path ${prefix}/temp/scgi;
  upstream bazaar {
${servers}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bazaar;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, 10_000);
  return { child, url };
}

/** One statement on the server of an administrative URL (CREATE DATABASE, DROP DATABASE), on its own connection. */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
