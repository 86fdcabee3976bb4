import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../db/index.js';
import { metricsText, prepareClusterWorker } from './cluster.js';
import { httpRequestDuration, httpRequestsInFlight, registry, setScrapeDatabase } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** True from arrival until the in-flight gauge has been lowered for this request (response or abort). */
    inFlight: boolean;
  }
}

/**
 * GET /metrics in Prometheus text, and per-request measurements: a duration observation labelled with the
 * route TEMPLATE (`/api/products/:id`, never the raw URL, so label cardinality stays bounded; 'unmatched'
 * for 404s) and the in-flight gauge. Per request: one gauge increment, one decrement, one histogram observe.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, options: { db: Database }) => {
    setScrapeDatabase(options.db);
    prepareClusterWorker();
    app.addHook('onClose', async () => {
      setScrapeDatabase(null);
    });

    app.decorateRequest('inFlight', false);
    app.addHook('onRequest', async (request) => {
      request.inFlight = true;
      httpRequestsInFlight.inc();
    });
    const landed = (request: { inFlight: boolean }) => {
      if (!request.inFlight) return;
      request.inFlight = false;
      httpRequestsInFlight.dec();
    };
    // A client that hangs up before the answer gets no onResponse: lower the gauge when it aborts.
    app.addHook('onRequestAbort', async (request) => landed(request));
    app.addHook('onResponse', async (request, reply) => {
      landed(request);
      httpRequestDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
        },
        reply.elapsedTime / 1000,
      );
    });

    app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
      const text = await metricsText();
      return reply.type(registry.contentType).send(text);
    });
  },
  { name: 'bazaar-metrics' },
);
