import { IdParam, problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import * as schemas from './schemas.js';
import type { CatalogService, ListProductsQuery } from './service.js';

export async function catalogRoutes(app: HttpServer, { catalog }: { catalog: CatalogService }) {
  app.get(
    '/api/categories/',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Every category, with parent_id',
        response: { 200: schemas.CategoryList },
      },
    },
    () => catalog.listCategories(),
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
    (request) => catalog.getCategory(request.params.id),
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
    (request) => {
      const query = request.query;
      const listQuery: ListProductsQuery = {
        sort: query.sort ?? '-created_at',
        limit: query.limit ?? 20,
        cursor: query.cursor,
        categoryId: query.category_id,
        q: query.q,
        minPrice: query.min_price,
        maxPrice: query.max_price,
        inStock: query.in_stock,
      };
      return catalog.listProducts(listQuery);
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
    (request) => catalog.getProduct(request.params.id),
  );
}
