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
  // Buffered writes (one write(2) per 4 KB instead of one per line): the per-request log line was the largest
  // cost of a cached GET (docs/performance_tuning.md). pino flushes the buffer when the process exits, and a
  // quiet process still shows its lines within 250 ms.
  const buffered = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => buffered.flush(), 250).unref();
  return pino(options, buffered);
}
