import type { Database } from '../../platform/db/index.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { AppError } from '../../platform/http/errors.js';
import { mediaUrl } from '../../platform/storage/media.js';
import * as repo from './repo.js';

export interface ListProductsQuery extends repo.ProductFilter {
  sort: repo.ProductSort;
  limit: number;
  cursor?: string;
}

function rating(average: string, count: number) {
  return { average: Number(average), count };
}

export function createCatalogService({ db }: { db: Database }) {
  return {
    async listCategories() {
      return { items: await repo.listCategories(db.reader), next_cursor: null };
    },

    async getCategory(id: number) {
      const category = await repo.findCategory(db.reader, id);
      if (!category) throw new AppError('not_found', `Category ${id} does not exist`);
      return category;
    },

    async listProducts(query: ListProductsQuery) {
      const spec = repo.SORTS[query.sort];
      const after =
        query.cursor === undefined ? null : decodeCursor(query.cursor, query.sort, [spec.kind, 'int']);
      if (
        query.minPrice !== undefined &&
        query.maxPrice !== undefined &&
        Number(query.minPrice) > Number(query.maxPrice)
      ) {
        throw new AppError('validation', 'min_price must not exceed max_price', [
          { path: 'querystring.min_price', message: 'must not exceed max_price' },
        ]);
      }
      // One row more than the page tells whether another page exists, without counting.
      const rows = await repo.listProducts(db.reader, query, query.sort, after, query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          id: row.id,
          name: row.name,
          price: row.price,
          stock_quantity: row.stock_quantity,
          category_id: row.category_id,
          rating: rating(row.rating_average, row.rating_count),
          thumbnail_url: mediaUrl(row.thumbnail_path),
          created_at: row.created_at,
          updated_at: row.updated_at,
        })),
        next_cursor:
          rows.length > query.limit && last ? encodeCursor(query.sort, [last.cursor_key, last.id]) : null,
      };
    },

    async getProduct(id: number) {
      const row = await repo.findProduct(db.reader, id);
      if (!row) throw new AppError('not_found', `Product ${id} does not exist`);
      return {
        id: row.id,
        name: row.name,
        description: row.description,
        price: row.price,
        stock_quantity: row.stock_quantity,
        category: row.category,
        images: row.images.map((image) => ({
          id: image.id,
          status: image.status,
          url: mediaUrl(image.original_path),
          thumbnail_url: image.status === 'ready' ? mediaUrl(image.thumbnail_path) : null,
        })),
        rating: rating(row.rating_average, row.rating_count),
        created_at: row.created_at,
        updated_at: row.updated_at,
      };
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
