import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import type { RateLimits } from './rate-limits.js';
import { tooManyRequests } from './rate-limits.js';

export interface SecurityOptions {
  /** Origins allowed to call the API from a browser (CORS_ORIGINS); empty means same origin only. */
  corsOrigins: string[];
  limits: RateLimits;
  /** The answers' security headers (securityHeadersFor), computed once and shared with the front door. */
  headers: SecurityHeaders;
}

export interface SecurityHeaders {
  /** JSON answers under /api/. */
  api: Record<string, string>;
  /** Pages and files: the web app, /docs, /media. */
  page: Record<string, string>;
}

/** The headers helmet sets for this configuration, collected once from a run of its middleware. */
function helmetHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failed: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    failed = error;
  });
  if (failed) throw failed;
  return headers;
}

/**
 * The security headers of every answer, computed once: they depend on the configuration only. (@fastify/helmet
 * built helmet's middleware anew for every request, parsing the Content-Security-Policy each time: 5% of a
 * cached GET.)
 *
 * Pages and files get helmet's set. API answers (JSON under /api/) get OWASP's REST Security Cheat Sheet set:
 * nothing in an answer may load, run or be framed (`default-src 'none'; frame-ancestors 'none'`,
 * `X-Frame-Options: DENY`), no MIME sniffing, HSTS, no referrer. A stricter policy than the pages' in fewer
 * bytes: the headers meant for HTML documents (DNS prefetch, download options, Flash policies, origin clusters,
 * opener isolation) mean nothing to a JSON reader, and on a cached read every byte of the answer counts.
 */
export function securityHeadersFor(corsOrigins: readonly string[]): SecurityHeaders {
  const page = helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        // The API reference (/docs) loads Swagger UI's own scripts and the validator badge.
        'img-src': ["'self'", 'data:', 'validator.swagger.io'],
        // Bazaar is often served over plain HTTP on a LAN address; upgrading would break /docs there.
        'upgrade-insecure-requests': null,
      },
    },
    ...resourcePolicy(corsOrigins),
  });
  const api = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': page['cross-origin-resource-policy'] ?? 'same-origin',
    'referrer-policy': 'no-referrer',
    'strict-transport-security': page['strict-transport-security'] ?? 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  };
  return { api, page };
}

/** Product images under /media/ may be shown by a storefront on an allowed origin. */
function resourcePolicy(corsOrigins: readonly string[]) {
  return {
    crossOriginResourcePolicy: {
      policy: corsOrigins.length > 0 ? ('cross-origin' as const) : ('same-origin' as const),
    },
  };
}

/** Only the API is rate limited globally: /docs, /healthz, /metrics and static files stay out of the count. */
const outsideApi = (request: FastifyRequest) => !request.url.startsWith('/api/');

/**
 * The security layer every route sits behind: security headers, CORS for the configured origins only, and
 * rate limits (global per address in memory; the strict ones, declared on their routes, shared through
 * Redis). Register it before any route that should be limited: @fastify/rate-limit hooks routes as they are
 * added. Body size (1 MB), strict schemas and problem+json errors without stack traces live in server.ts.
 */
export const securityPlugin = fp(
  async (app: FastifyInstance, options: SecurityOptions) => {
    const { api, page } = options.headers;
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(request.url.startsWith('/api/') ? api : page);
      done();
    });

    if (options.corsOrigins.length > 0) {
      await app.register(cors, {
        origin: options.corsOrigins,
        methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match'],
        exposedHeaders: ['ETag', 'Retry-After', 'X-Request-Id'],
        // Bearer tokens, not cookies: browsers need not send credentials cross-origin.
        credentials: false,
        maxAge: 600,
      });
    }

    if (options.limits.enabled) {
      const global = options.limits.limit('global');
      await app.register(rateLimit, {
        global: true,
        max: global.max,
        timeWindow: global.windowMs,
        store: options.limits.store,
        allowList: outsideApi,
        errorResponseBuilder: (_request, context) => tooManyRequests(context.ttl),
      });
    }
  },
  { name: 'bazaar-security' },
);
