import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendCachedJson } from '../../platform/cache/http.js';
import type { CacheLookup, ResponseCache } from '../../platform/cache/response-cache.js';
import type { FrontDoor } from '../../platform/http/front-door.js';
import { CATALOG_DEPS, DETAIL_TTL_MS, LIST_TTL_MS } from './cache-keys.js';
import type { CatalogService, ListProductsQuery } from './service.js';

/** The route's response serializer (fast-json-stringify from the 200 schema) always yields a string. */
function serialize(reply: FastifyReply, value: unknown): string {
  const json = reply.serialize(value);
  if (typeof json !== 'string') throw new Error('the response serializer returned bytes, not JSON text');
  return json;
}

/**
 * A signed-in reader skips the shared cache and reads through `db.reader`, whose read-your-writes fences show
 * them their own writes at once: an entry cached on another instance before their write could hide it for up
 * to the L1 bound. Anonymous readers, the bulk of catalog traffic, are served from the cache.
 */
async function personal<T>(reply: FastifyReply, read: () => Promise<T>): Promise<T> {
  reply.header('cache-control', 'private, no-cache');
  return read();
}

/**
 * The catalog's public reads through the response cache. A miss asks the service and serializes with the
 * route's own response schema (reply.serialize), so cached bytes are exactly what an uncached answer would be.
 */
export function createCachedCatalog({
  catalog,
  cache,
  frontDoor,
}: {
  catalog: CatalogService;
  cache: ResponseCache;
  /** Told of each URL answered from the cache, so it can answer the next request for it (front-door.ts). */
  frontDoor?: FrontDoor;
}) {
  const { categories, productLists, product } = CATALOG_DEPS;

  async function send(request: FastifyRequest, reply: FastifyReply, lookup: CacheLookup) {
    const entry = await cache.get(lookup);
    frontDoor?.remember(request, lookup);
    return sendCachedJson(request, reply, entry);
  }

  return {
    async categories(request: FastifyRequest, reply: FastifyReply) {
      if (request.user !== null) return personal(reply, () => catalog.listCategories());
      return send(request, reply, {
        key: 'categories',
        deps: [categories],
        ttlMs: DETAIL_TTL_MS,
        load: async () => serialize(reply, await catalog.listCategories()),
      });
    },

    async category(request: FastifyRequest, reply: FastifyReply, id: number) {
      if (request.user !== null) return personal(reply, () => catalog.getCategory(id));
      return send(request, reply, {
        key: `category:${id}`,
        deps: [categories],
        ttlMs: DETAIL_TTL_MS,
        load: async () => serialize(reply, await catalog.getCategory(id)),
      });
    },

    async products(request: FastifyRequest, reply: FastifyReply, query: ListProductsQuery) {
      if (request.user !== null) return personal(reply, () => catalog.listProducts(query));
      return send(request, reply, {
        key: `products:${JSON.stringify([
          query.sort,
          query.limit,
          query.cursor ?? null,
          query.categoryId ?? null,
          query.q ?? null,
          query.minPrice ?? null,
          query.maxPrice ?? null,
          query.inStock ?? null,
        ])}`,
        deps: [categories, productLists],
        ttlMs: LIST_TTL_MS,
        load: async () => serialize(reply, await catalog.listProducts(query)),
      });
    },

    async product(request: FastifyRequest, reply: FastifyReply, id: number) {
      if (request.user !== null) return personal(reply, () => catalog.getProduct(id));
      return send(request, reply, {
        key: `product:${id}`,
        deps: [categories, product(id)],
        ttlMs: DETAIL_TTL_MS,
        load: async () => serialize(reply, await catalog.getProduct(id)),
      });
    },
  };
}

export type CachedCatalog = ReturnType<typeof createCachedCatalog>;
