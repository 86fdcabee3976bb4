import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RateLimits } from './rate-limits.js';
import { tooManyRequests } from './rate-limits.js';

export interface SecurityOptions {
  /** Origins allowed to call the API from a browser (CORS_ORIGINS); empty means same origin only. */
  corsOrigins: string[];
  limits: RateLimits;
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
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          // The API reference (/docs) loads Swagger UI's own scripts and the validator badge.
          'img-src': ["'self'", 'data:', 'validator.swagger.io'],
          // Bazaar is often served over plain HTTP on a LAN address; upgrading would break /docs there.
          'upgrade-insecure-requests': null,
        },
      },
      // Product images under /media/ may be shown by a storefront on an allowed origin.
      crossOriginResourcePolicy: { policy: options.corsOrigins.length > 0 ? 'cross-origin' : 'same-origin' },
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
