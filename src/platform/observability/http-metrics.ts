import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../db/index.js';
import { metricsText, prepareClusterWorker } from './cluster.js';
import { httpRequestDuration, httpRequestsInFlight, registry, setScrapeDatabase } from './metrics.js';

/** A response's 'close' comes exactly once, whether it was sent or its client hung up first. */
function responseClosed(): void {
  httpRequestsInFlight.dec();
}

/**
 * GET /metrics in Prometheus text, and per-request measurements: a duration observation labelled with the
 * route TEMPLATE (`/api/products/:id/`, never the raw URL, so label cardinality stays bounded; 'unmatched'
 * for 404s) and the in-flight gauge. Callback hooks and one shared listener keep this to about a microsecond
 * per request (bench/metrics-overhead.ts).
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, options: { db: Database }) => {
    setScrapeDatabase(options.db);
    prepareClusterWorker();
    app.addHook('onClose', async () => {
      setScrapeDatabase(null);
    });

    app.addHook('onRequest', (_request, reply, done) => {
      httpRequestsInFlight.inc();
      // Not onResponse: a client that hangs up before the answer gets none, and the gauge would drift up.
      reply.raw.on('close', responseClosed);
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      httpRequestDuration
        .series(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
        .observe(reply.elapsedTime / 1000);
      done();
    });

    app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
      const text = await metricsText();
      return reply.type(registry.contentType).send(text);
    });
  },
  { name: 'bazaar-metrics' },
);
