import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

/**
 * Every environment variable Bazaar reads, parsed and validated once. A missing or malformed value throws a
 * ConfigError whose message is one line naming the variable; the CLI prints it and exits.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  databaseReplicaUrls: string[];
  /** A replica staler than this (ms) is skipped by the read router. */
  databaseReplicaMaxLagMs: number;
  /** Connections of an API process's pool for requests (its jobs have a pool of their own). */
  databasePoolSize: number;
  /** Hot statements as named, server-side prepared ones; false behind a PgBouncer that cannot keep them. */
  databasePreparedStatements: boolean;
  redisUrl: string | null;
  /** Prepended to every Redis key, so several deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  amqpUrl: string | null;
  /** Names every RabbitMQ queue Bazaar declares (`<prefix>.<job type>`): lets installs share a broker. */
  amqpQueuePrefix: string;
  /** Jobs one worker process runs at once, per job type (the consumer's prefetch). */
  workerPrefetch: number;
  smtpUrl: string | null;
  mailFrom: string;
  /** null until resolved: embedded mode generates one and keeps it in DATA_DIR (see resolveJwtSecret). */
  jwtSecret: string | null;
  publicUrl: string;
  logLevel: LogLevel;
  corsOrigins: string[];
  rateLimitFactor: number;
  /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client; empty trusts none. */
  trustProxy: string[];
  /** Port of /metrics for processes that serve no API (`bazaar worker`); API processes answer on PORT. */
  metricsPort: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function parseUrl(env: Env, name: string, protocols: string[], raw = read(env, name)): string | null {
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL (${protocols.join(', ')})`);
  }
  if (!protocols.includes(url.protocol.slice(0, -1))) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')} (got "${url.protocol.slice(0, -1)}")`);
  }
  return raw;
}

function parseKeyPrefix(env: Env): string {
  const prefix = read(env, 'REDIS_KEY_PREFIX') ?? 'bazaar:';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new ConfigError('REDIS_KEY_PREFIX', `must be 1-64 of A-Z a-z 0-9 _ . : - (got "${prefix}")`);
  }
  return prefix;
}

const POSTGRES = ['postgres', 'postgresql'];
const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const port = parseInteger(env, 'PORT', 3000, 0, 65535);
  const host = read(env, 'HOST') ?? '127.0.0.1';
  const databaseUrl = parseUrl(env, 'DATABASE_URL', POSTGRES);

  const replicas = (read(env, 'DATABASE_REPLICA_URLS') ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const replica of replicas) parseUrl(env, 'DATABASE_REPLICA_URLS', POSTGRES, replica);
  if (replicas.length > 0 && databaseUrl === null) {
    throw new ConfigError(
      'DATABASE_REPLICA_URLS',
      'needs DATABASE_URL (replicas follow a PostgreSQL primary)',
    );
  }

  const jwtSecret = read(env, 'JWT_SECRET') ?? null;
  if (jwtSecret !== null && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', `must be at least 32 characters (got ${jwtSecret.length})`);
  }
  if (jwtSecret === null && databaseUrl !== null) {
    throw new ConfigError(
      'JWT_SECRET',
      'is required when DATABASE_URL is set (at least 32 random characters)',
    );
  }

  const mailFrom = read(env, 'MAIL_FROM') ?? 'Bazaar <no-reply@bazaar.localhost>';
  if (!/^[^<>@\s]+@[^<>@\s]+$|<[^<>@\s]+@[^<>@\s]+>$/.test(mailFrom)) {
    throw new ConfigError(
      'MAIL_FROM',
      `must be an address such as "Shop <shop@example.com>" (got "${mailFrom}")`,
    );
  }

  const logLevel = (read(env, 'LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const corsOrigins = (read(env, 'CORS_ORIGINS') ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const origin of corsOrigins) {
    const parsed = parseUrl(env, 'CORS_ORIGINS', ['http', 'https'], origin);
    if (parsed !== null && new URL(parsed).origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError('CORS_ORIGINS', `must list origins without paths (got "${origin}")`);
    }
  }

  const factorRaw = read(env, 'RATE_LIMIT_FACTOR') ?? '1';
  const rateLimitFactor = Number(factorRaw);
  if (!/^\d+(\.\d+)?$/.test(factorRaw) || !Number.isFinite(rateLimitFactor)) {
    throw new ConfigError('RATE_LIMIT_FACTOR', `must be a number >= 0 (got "${factorRaw}")`);
  }

  const trustProxy = (read(env, 'TRUST_PROXY') ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const proxy of trustProxy) {
    const [address, bits, extra] = proxy.split('/');
    const version = isIP(address ?? '');
    const maxBits = version === 6 ? 128 : 32;
    if (
      version === 0 ||
      extra !== undefined ||
      (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))
    ) {
      throw new ConfigError('TRUST_PROXY', `must list IP addresses or CIDR ranges (got "${proxy}")`);
    }
  }

  const amqpQueuePrefix = read(env, 'AMQP_QUEUE_PREFIX') ?? 'bazaar';
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(amqpQueuePrefix)) {
    throw new ConfigError('AMQP_QUEUE_PREFIX', `must be letters, digits, . _ - (got "${amqpQueuePrefix}")`);
  }

  const publicUrl =
    parseUrl(env, 'PUBLIC_URL', ['http', 'https']) ??
    `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;

  return {
    port,
    host,
    dataDir: path.resolve(read(env, 'DATA_DIR') ?? './data'),
    databaseUrl,
    databaseReplicaUrls: replicas,
    databaseReplicaMaxLagMs: parseInteger(env, 'DATABASE_REPLICA_MAX_LAG_MS', 5_000, 100, 600_000),
    databasePoolSize: parseInteger(env, 'DATABASE_POOL_SIZE', 20, 1, 1000),
    databasePreparedStatements: parseBoolean(env, 'DATABASE_PREPARED_STATEMENTS', true),
    redisUrl: parseUrl(env, 'REDIS_URL', ['redis', 'rediss']),
    redisKeyPrefix: parseKeyPrefix(env),
    amqpUrl: parseUrl(env, 'AMQP_URL', ['amqp', 'amqps']),
    amqpQueuePrefix,
    workerPrefetch: parseInteger(env, 'WORKER_PREFETCH', 32, 1, 1000),
    smtpUrl: parseUrl(env, 'SMTP_URL', ['smtp', 'smtps']),
    mailFrom,
    jwtSecret,
    publicUrl: publicUrl.replace(/\/$/, ''),
    logLevel,
    corsOrigins: corsOrigins.map((origin) => origin.replace(/\/$/, '')),
    rateLimitFactor,
    trustProxy,
    metricsPort: parseInteger(env, 'METRICS_PORT', 9464, 0, 65535),
  };
}

/**
 * The secret that signs access tokens. In embedded mode (no JWT_SECRET) it is generated once and kept in
 * DATA_DIR/jwt-secret, readable by the owner only, so tokens survive restarts without a default secret.
 */
export function resolveJwtSecret(config: Config): string {
  if (config.jwtSecret !== null) return config.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process of the same cluster wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
}
