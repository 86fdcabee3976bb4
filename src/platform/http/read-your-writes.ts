import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Database, readContext } from '../db/index.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Opens the read context of each request (who reads, whether the request writes) so `db.reader` can route
 * without services knowing, and after a signed-in user's write request records the write's WAL position
 * before the answer leaves, so the user's next read, on any instance, sees it.
 *
 * Only with read replicas: without them every read goes to the primary and there is nothing to route. The
 * context is an AsyncLocalStorage, and entering one turns on Node's async hooks for the whole process, so
 * that every promise and socket write after it pays an init hook: about a tenth of the server's CPU on a
 * checkout and on a cached GET (docs/performance_tuning.md). A deployment without replicas does not pay it.
 */
export const readYourWritesPlugin = fp(
  async (app: FastifyInstance, options: { db: Database }) => {
    if (options.db.replicas().length === 0) return;
    const scopes = new WeakMap<FastifyRequest, AsyncResource>();

    app.addHook('onRequest', (request, _reply, done) => {
      const context = { userId: () => request.user?.id ?? null, writing: !SAFE_METHODS.has(request.method) };
      readContext.run(context, () => {
        const scope = new AsyncResource('bazaar-read-context');
        scopes.set(request, scope);
        scope.runInAsyncScope(done, request.raw);
      });
    });
    // Validation and the handler run from the request stream's events, outside the scope opened above (a
    // known limit of AsyncLocalStorage with Node's HTTP server), so the scope is entered again here.
    app.addHook('preValidation', (request, _reply, done) => {
      const scope = scopes.get(request);
      if (scope === undefined) return done();
      scope.runInAsyncScope(done, request.raw);
    });

    app.addHook('onSend', async (request, _reply, payload) => {
      if (SAFE_METHODS.has(request.method) || request.user === null) return payload;
      try {
        await options.db.fenceWrite(request.user.id);
      } catch (error) {
        // The write committed; without its fence this user may briefly read from a replica that lags behind.
        request.log.warn({ err: error }, 'could not record the write position for read-your-writes');
      }
      return payload;
    });
  },
  { name: 'bazaar-read-your-writes' },
);
