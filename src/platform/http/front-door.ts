import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import pino, { type Logger } from 'pino';
import { ifNoneMatchHits, PUBLIC_CACHE_CONTROL } from '../cache/http.js';
import type { CacheLookup, ResponseCache } from '../cache/response-cache.js';
import { httpRequestDuration, type LatencySeries } from '../observability/metrics.js';
import type { RateLimits } from './rate-limits.js';
import { REQUEST_ID } from './server.js';

/**
 * The front door: anonymous GETs of cached catalog answers, served from the response cache's L1 before Fastify
 * sees the request. Everything else, and any request this is unsure of, goes on to Fastify untouched.
 *
 * It serves only a URL that Fastify served before from the cache: when a route answers an anonymous GET from
 * the cache, it tells the front door (`remember`) which entry that exact URL maps to (its key and the
 * generations it depends on). The next GET of the same bytes of URL is then answered with `cache.peek`, which
 * finds the entry only under the generations that get() would use, so the front door never serves what the
 * route would not: an invalidated entry, a generation copy past its bound (500 ms with Redis), or an outage
 * all send the request to Fastify. A URL's validation, routing and 404s happen there, once.
 *
 * It does what Fastify's hooks do on such a request: request id, the same security headers, the global rate
 * limit counted in the same counter under the same key (a client over the limit goes on to Fastify, which
 * answers 429), ETag and If-None-Match, `Cache-Control: public`, the duration histogram and one log line.
 * Left to Fastify: HEAD, credentials, CORS requests (an Origin while CORS_ORIGINS is set), IPv6 clients, and
 * everything once the server stops listening (server.ts).
 */

export interface RememberedRead {
  key: string;
  deps: readonly string[];
  /** The route template, for the metrics and the log line. */
  route: string;
}

interface Remembered extends RememberedRead {
  /** The route as a JSON string, for the log line. */
  routeJson: string;
  /** The duration histogram's series of a 200 of this route, looked up once, not per request. */
  ok: LatencySeries;
}

export interface FrontDoor {
  /** Tries to answer; false when the request is Fastify's. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  /** Requests answered here (tests and diagnostics). */
  readonly stats: { answered: number };
  /** Called by a route that answered an anonymous GET from the cache. */
  remember(request: FastifyRequest, lookup: Pick<CacheLookup, 'key' | 'deps'>): void;
}

export interface FrontDoorOptions {
  cache: ResponseCache;
  limits: RateLimits;
  logger: Logger;
  securityHeaders: Record<string, string>;
  corsOrigins: readonly string[];
  trustProxy: readonly string[];
  /** URLs remembered (default 10,000): the catalog's hot pages, not every product ever read. */
  maxUrls?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const MAPPED_IPV4 = '::ffff:';

/**
 * Writes the request line as pino writes it (its level number, epoch time, the logger's bindings, then the
 * fields and msg) straight to the logger's destination. The fields are five known scalars, so the line is
 * built by concatenation rather than by pino's serializer of arbitrary objects: pino's logging call, its
 * writes included, was about a tenth of a cached GET's CPU (docs/performance_tuning.md, item 13). Nothing on this line can hold a secret.
 */
function requestLine(logger: Logger) {
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[pino.symbols.streamSym] as { write(line: string): void };
  const bindings = internals[pino.symbols.chindingsSym] as string;
  const level = logger.levels.values.info;
  return (requestId: string, routeJson: string, status: number, ms: number) => {
    if (!logger.isLevelEnabled('info')) return;
    // A request id is a UUID or matched REQUEST_ID ([A-Za-z0-9._:-]): nothing in it needs escaping.
    stream.write(
      `{"level":${level},"time":${Date.now()}${bindings},"reqId":"${requestId}","method":"GET","route":${routeJson},"status":${status},"ms":${ms},"msg":"request"}\n`,
    );
  };
}

const named = (name: string, lowerCase: string) =>
  name.length === lowerCase.length && (name === lowerCase || name.toLowerCase() === lowerCase);

/**
 * The request headers the front door reads, from the raw list: `request.headers` is an object Node builds on
 * first use, every name lower-cased, and the ceiling never pays for it. Null when the request is Fastify's: it
 * carries credentials, a CORS Origin (with CORS on), or one of the headers read here twice (Node would join
 * them; Fastify decides).
 */
function readHeaders(raw: string[], corsEnabled: boolean) {
  let requestId: string | undefined;
  let ifNoneMatch: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (named(name, 'authorization') || (corsEnabled && named(name, 'origin'))) return null;
    if (named(name, 'x-request-id')) {
      if (requestId !== undefined) return null;
      requestId = raw[i + 1];
    } else if (named(name, 'if-none-match')) {
      if (ifNoneMatch !== undefined) return null;
      ifNoneMatch = raw[i + 1];
    }
  }
  return { requestId, ifNoneMatch };
}

export function createFrontDoor(options: FrontDoorOptions): FrontDoor {
  const { cache, limits, logger } = options;
  const urls = new LRUCache<string, Remembered>({ max: options.maxUrls ?? 10_000 });
  const log = requestLine(logger);
  const trusted = options.trustProxy.length > 0 ? proxyAddr.compile([...options.trustProxy]) : null;
  const corsEnabled = options.corsOrigins.length > 0;
  // One flat [name, value, ...] list handed to writeHead: far cheaper than a setHeader() per header.
  const securityHeaders = Object.entries(options.securityHeaders).flat();
  /** The global limit's key for this client, as @fastify/rate-limit keys it; null for IPv6 (left to Fastify). */
  function clientKey(request: IncomingMessage): string | null {
    const address = trusted ? proxyAddr(request, trusted) : request.socket.remoteAddress;
    if (address === undefined) return null;
    if (!address.includes(':')) return address;
    return address.startsWith(MAPPED_IPV4) && address.includes('.')
      ? address.slice(MAPPED_IPV4.length)
      : null;
  }

  const stats = { answered: 0 };
  return {
    stats,
    handle(request, response) {
      if (request.method !== 'GET') return false;
      const startedAt = performance.now();
      const headers = readHeaders(request.rawHeaders, corsEnabled);
      if (headers === null) return false;
      const url = request.url;
      if (url === undefined) return false;
      const read = urls.get(url);
      if (read === undefined) return false;
      const entry = cache.peek(read.key, read.deps);
      if (entry === undefined) return false;

      let counted: ReturnType<RateLimits['countGlobal']> = null;
      if (limits.enabled) {
        const key = clientKey(request);
        if (key === null) return false;
        counted = limits.countGlobal(key);
        if (counted !== null && counted.current > counted.max) return false;
      }

      const incoming = headers.requestId;
      const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      const answer = securityHeaders.slice();
      answer.push('x-request-id', requestId);
      if (counted !== null) {
        answer.push(
          'x-ratelimit-limit',
          String(counted.max),
          'x-ratelimit-remaining',
          String(Math.max(0, counted.max - counted.current)),
          'x-ratelimit-reset',
          String(Math.ceil(counted.ttl / 1000)),
        );
      }
      answer.push('etag', entry.etag, 'cache-control', PUBLIC_CACHE_CONTROL);
      const ifNoneMatch = headers.ifNoneMatch;
      let status = 200;
      if (ifNoneMatch !== undefined && ifNoneMatchHits(ifNoneMatch, entry.etag)) {
        status = 304;
        response.writeHead(304, answer);
        response.end();
      } else {
        answer.push('content-type', JSON_TYPE, 'content-length', String(entry.body.length));
        response.writeHead(200, answer);
        response.end(entry.body);
      }
      stats.answered += 1;
      const ms = performance.now() - startedAt;
      (status === 200 ? read.ok : httpRequestDuration.series('GET', read.route, '304')).observe(ms / 1000);
      log(requestId, read.routeJson, status, Math.round(ms * 100) / 100);
      return true;
    },

    remember(request, lookup) {
      const route = request.routeOptions.url;
      if (request.method !== 'GET' || request.user !== null || route === undefined) return;
      if (request.headers.authorization !== undefined) return;
      urls.set(request.raw.url ?? '', {
        key: lookup.key,
        deps: lookup.deps,
        route,
        routeJson: JSON.stringify(route),
        ok: httpRequestDuration.series('GET', route, '200'),
      });
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    frontDoor: FrontDoor;
  }
}
