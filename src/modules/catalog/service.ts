import type { ResponseCache } from '../../platform/cache/response-cache.js';
import type { Database } from '../../platform/db/index.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { AppError } from '../../platform/http/errors.js';
import { mediaUrl } from '../../platform/storage/media.js';
import { catalogDeps, productDeps, stockDeps } from './cache-keys.js';
import * as categories from './category-repo.js';
import * as repo from './repo.js';
import { type CategoryInput, createCatalogWrites, type ProductInput, requireCategory } from './writes.js';

export interface ListProductsQuery extends repo.ProductFilter {
  /** Absent: newest first, or best match first when q is given. */
  sort?: Exclude<repo.ProductSort, 'relevance'>;
  limit: number;
  cursor?: string;
}

function rating(average: string, count: number) {
  return { average: Number(average), count };
}

function summaryView(row: repo.ProductListRow) {
  return {
    id: row.id,
    name: row.name,
    price: row.price,
    stock_quantity: row.stock_quantity,
    category_id: row.category_id,
    rating: rating(row.rating_average, row.rating_count),
    thumbnail_url: mediaUrl(row.thumbnail_path),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export type ProductSummaryView = ReturnType<typeof summaryView>;

function productView(row: repo.ProductDetailRow) {
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
}

/** Without a cache (command-line tools), invalidation has nothing to do. */
export function createCatalogService({ db, cache }: { db: Database; cache?: ResponseCache }) {
  /** Bumps cached answers after a write's commit (it never throws). */
  const invalidate = async (deps: string[]): Promise<void> => {
    await cache?.invalidate(deps);
  };
  // Each write records its bump in its transaction and bumps after its commit (writes.ts).
  const writes = createCatalogWrites(db, invalidate);
  return {
    /**
     * Call after the write commits. Products changed in what lists show (name, price, rating, images, deleted):
     * their details and every list page.
     */
    invalidateProducts(ids: readonly number[]) {
      return invalidate(productDeps(ids));
    },

    /** Call after an order took or returned stock: the details; list pages catch up within LIST_TTL_MS. */
    invalidateStock(ids: readonly number[]) {
      return invalidate(stockDeps(ids));
    },

    /** Call after a category changed: every catalog response. */
    invalidateCatalog() {
      return invalidate(catalogDeps());
    },

    async listCategories() {
      return { items: await categories.listCategories(db.reader), next_cursor: null };
    },

    getCategory(id: number) {
      return requireCategory(db.reader, id);
    },

    async listProducts(query: ListProductsQuery) {
      const sort: repo.ProductSort = query.sort ?? (query.q === undefined ? '-created_at' : 'relevance');
      const after =
        query.cursor === undefined ? null : decodeCursor(query.cursor, sort, [repo.cursorKind(sort), 'int']);
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
      const rows = await repo.listProducts(db.reader, query, sort, after, query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map(summaryView),
        next_cursor:
          rows.length > query.limit && last ? encodeCursor(sort, [last.cursor_key, last.id]) : null,
      };
    },

    async getProduct(id: number) {
      const row = await repo.findProduct(db.reader, id);
      if (!row) throw new AppError('not_found', `Product ${id} does not exist`);
      return productView(row);
    },

    /** Summaries of the live products among ids, keyed by id (deleted and unknown ids are absent). */
    async liveProductSummaries(ids: number[]): Promise<Map<number, ProductSummaryView>> {
      if (ids.length === 0) return new Map();
      const rows = await repo.findLiveProducts(db.reader, ids);
      return new Map(rows.map((row) => [row.id, summaryView(row)]));
    },

    /** Whether a product exists and is not deleted (read from the primary: callers are about to write). */
    isLiveProduct(id: number) {
      return repo.isLiveProduct(db, id);
    },

    createCategory: (input: CategoryInput & { name: string }) => writes.createCategory(input),
    updateCategory: (id: number, input: CategoryInput) => writes.updateCategory(id, input),
    deleteCategory: (id: number) => writes.deleteCategory(id),

    async createProduct(input: Required<Omit<ProductInput, 'description'>> & ProductInput) {
      return productView(await writes.createProduct(input));
    },
    async updateProduct(id: number, input: ProductInput) {
      return productView(await writes.updateProduct(id, input));
    },
    deleteProduct: (id: number) => writes.deleteProduct(id),
    adjustRating: writes.adjustRating,
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
