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

/**
 * Each secret key at the top of a log object and one or two levels down (`{ body: { password } }`,
 * `{ request: { headers: { authorization } } }`): pino compiles these paths once.
 */
export const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/**
 * JSON lines for machines; readable lines (pino-pretty) when a person watches a terminal. Every request line
 * (see http/server.ts) carries reqId, method, route, status, ms and user. `destination` is for tests.
 */
export function createLogger(
  level: LogLevel,
  pretty = process.stdout.isTTY === true,
  destination?: DestinationStream,
): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
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
