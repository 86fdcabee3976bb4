import { Type } from '@sinclair/typebox';
import { IdParam, problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { CachedCatalog } from './cached.js';
import * as schemas from './schemas.js';
import type { CatalogService, ListProductsQuery } from './service.js';

export async function catalogRoutes(
  app: HttpServer,
  { catalog, cached }: { catalog: CatalogService; cached: CachedCatalog },
) {
  app.get(
    '/api/categories/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Every category, with parent_id',
        response: { 200: schemas.CategoryList },
      },
    },
    (request, reply) => cached.categories(request, reply),
  );

  app.get(
    '/api/categories/:id/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'A category with its children and its path from the root',
        params: IdParam,
        response: { 200: schemas.CategoryDetail, ...problems(400, 404) },
      },
    },
    (request, reply) => cached.category(request, reply, request.params.id),
  );

  app.get(
    '/api/products/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Products, filtered and sorted, in keyset pages',
        querystring: schemas.ProductListQuery,
        response: { 200: schemas.ProductList, ...problems(400) },
      },
    },
    (request, reply) => {
      const query = request.query;
      const listQuery: ListProductsQuery = {
        sort: query.sort,
        limit: query.limit ?? 20,
        cursor: query.cursor,
        categoryId: query.category_id,
        q: query.q,
        minPrice: query.min_price,
        maxPrice: query.max_price,
        inStock: query.in_stock,
      };
      return cached.products(request, reply, listQuery);
    },
  );

  app.get(
    '/api/products/:id/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'One product with its category, images and rating',
        params: IdParam,
        response: { 200: schemas.Product, ...problems(400, 404) },
      },
    },
    (request, reply) => cached.product(request, reply, request.params.id),
  );

  const manager = { auth: 'manager' as const };
  const security = [{ bearer: [] }];

  app.post(
    '/api/categories/',
    {
      config: manager,
      schema: {
        tags: ['catalog'],
        summary: 'Create a category (manager)',
        security,
        body: schemas.CategoryCreate,
        response: { 201: schemas.CategoryDetail, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await catalog.createCategory(request.body)),
  );

  app.patch(
    '/api/categories/:id/',
    {
      config: manager,
      schema: {
        tags: ['catalog'],
        summary: 'Rename or move a category (manager); a move under its own subtree is a 400',
        security,
        params: IdParam,
        body: schemas.CategoryUpdate,
        response: { 200: schemas.CategoryDetail, ...problems(400, 401, 403, 404, 409) },
      },
    },
    (request) => catalog.updateCategory(request.params.id, request.body),
  );

  app.delete(
    '/api/categories/:id/',
    {
      config: manager,
      schema: {
        tags: ['catalog'],
        summary: 'Delete a category (manager); 409 while it holds products or children',
        security,
        params: IdParam,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await catalog.deleteCategory(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/products/',
    {
      config: manager,
      schema: {
        tags: ['catalog'],
        summary: 'Create a product (manager)',
        security,
        body: schemas.ProductCreate,
        response: { 201: schemas.Product, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => reply.code(201).send(await catalog.createProduct(request.body)),
  );

  app.patch(
    '/api/products/:id/',
    {
      config: manager,
      schema: {
        tags: ['catalog'],
        summary: 'Change a product (manager)',
        security,
        params: IdParam,
        body: schemas.ProductUpdate,
        response: { 200: schemas.Product, ...problems(400, 401, 403, 404) },
      },
    },
    (request) => catalog.updateProduct(request.params.id, request.body),
  );

  app.delete(
    '/api/products/:id/',
    {
      config: manager,
      schema: {
        tags: ['catalog'],
        summary: 'Delete a product (manager): hidden from the catalog, kept for order history',
        security,
        params: IdParam,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await catalog.deleteProduct(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
