import cluster from 'node:cluster';
import { writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../../config.js';

/** Keys whose values never reach a log line: credentials in headers, bodies and tokens. */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'password',
  'current_password',
  'new_password',
  'token',
  'refresh',
  'access',
  'payment_token',
];

const SECRETS = new Set(SECRET_KEYS);
const CENSOR = '[redacted]';
/** How deep a secret is looked for: `key`, `*.key` and `*.*.key` (`{ request: { headers: { authorization } } }`). */
const SECRET_DEPTH = 2;

/** A copy of an object with some keys replaced: an Error stays an Error (message, stack, prototype). */
function copyOf(value: object): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(value)), value);
  if (value instanceof Error) Object.assign(copy, { message: value.message, stack: value.stack });
  return copy;
}

/**
 * Each secret key at the top of a log object and one or two levels down, censored in a copy; the object itself
 * when it holds none (every request line), so the common case costs a few set lookups. pino's own `redact`
 * did the same from compiled wildcard paths at 5% of a cached GET.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object') return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    const next = SECRETS.has(key) ? CENSOR : depth < SECRET_DEPTH ? redactSecrets(child, depth + 1) : child;
    if (next !== child) {
      copy ??= copyOf(value);
      copy[key] = next;
    }
  }
  return (copy ?? value) as T;
}

/** pino options that keep secrets out of every line, from a log call's object and a child logger's bindings. */
export const redacting = {
  formatters: {
    log: (object: Record<string, unknown>) => redactSecrets(object),
    bindings: (bindings: Record<string, unknown>) => redactSecrets(bindings),
  },
};

/**
 * JSON lines for machines; readable lines (pino-pretty) when a person watches a terminal. Every request line
 * (see http/server.ts) carries reqId, method, route, status, ms and user. `destination` is for tests.
 */
export function createLogger(
  level: LogLevel,
  pretty = process.stdout.isTTY === true,
  destination?: DestinationStream,
): Logger {
  const options = { level, ...redacting };
  if (destination) return pino(options, destination);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(options, batchedStdout());
}

/**
 * The largest chunk handed to the writer, and the largest write it makes. The processes of `serve --instances N`
 * share one stdout: theirs is PIPE_BUF (4 KB), the size up to which a write to a pipe is atomic, so that no
 * other process's lines land inside one of theirs. A process alone on its stdout writes up to 64 KB at a time:
 * each write is a round trip through libuv's thread pool, about 2 µs of a cached GET's CPU at 4 KB
 * (docs/performance_tuning.md, item 15).
 */
export function logChunkBytes(sharedStdout = cluster.isWorker): number {
  return sharedStdout ? 4096 : 65536;
}

/**
 * The destination of `serve`'s lines: they are gathered in memory and handed to pino's asynchronous writer
 * (sonic-boom, on stdout) in chunks of up to logChunkBytes(), or every 250 ms when fewer come. sonic-boom alone buffered
 * too, but measured the UTF-8 length of its whole pending buffer at every line it was given: with the front
 * door's request line that was most of a cached GET's logging cost (docs/performance_tuning.md). sonic-boom
 * still does the writing (partial writes, EAGAIN, a closed pipe); at exit, after it has flushed, the last lines
 * are written synchronously, so a process that exits or crashes loses none of what it logged.
 */
export function batchedStdout(
  fd = 1,
  chunkBytes = logChunkBytes(),
): DestinationStream & { flush(done?: (error?: Error) => void): void } {
  const writer = pino.destination({ dest: fd, sync: false, maxWrite: chunkBytes });
  let lines: string[] = [];
  let bytes = 0;
  const take = () => {
    const chunk = lines.join('');
    lines = [];
    bytes = 0;
    return chunk;
  };
  // pino.flush(done) comes here: the lines go to the writer, then the writer is flushed with done.
  const flush = (done?: (error?: Error) => void) => {
    if (bytes > 0) writer.write(take());
    if (done) writer.flush(done);
  };
  setInterval(() => flush(), 250).unref();
  // Registered after the writer's own exit hook (pino's on-exit-leak-free), so it runs after that hook has
  // written what the writer held: the lines stay in order.
  process.on('exit', () => {
    if (bytes === 0) return;
    const chunk = Buffer.from(take());
    for (let written = 0, tries = 0; written < chunk.length && tries < 1_000; tries += 1) {
      try {
        written += writeSync(fd, chunk, written);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      }
    }
  });
  return {
    write(line: string) {
      const size = Buffer.byteLength(line);
      if (bytes + size > chunkBytes) flush();
      lines.push(line);
      bytes += size;
    },
    flush,
  };
}
