import pino, { type Logger } from 'pino';
import type { LogLevel } from '../../config.js';

/** Paths whose values never reach a log line: credentials in headers and in bodies. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.token',
  '*.refresh',
  '*.access',
  '*.payment_token',
];

/** JSON lines for machines; readable lines when a person watches a terminal. */
export function createLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
