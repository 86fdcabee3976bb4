import type { Database } from '../../platform/db/index.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { AppError } from '../../platform/http/errors.js';
import type { CatalogService, ProductSummaryView } from '../catalog/service.js';
import * as repo from './repo.js';

/**
 * Wishlists: a user's saved products. Products come from the catalog service, which leaves deleted ones out,
 * so a deleted product disappears from every wishlist without touching them (a page may then hold fewer
 * items than its limit; next_cursor null alone marks the end).
 */

const CURSOR_SORT = '-id';

function itemView(item: repo.WishlistItemRow, product: ProductSummaryView) {
  return { product_id: item.product_id, added_at: item.created_at, product };
}

export function createWishlistService({ db, catalog }: { db: Database; catalog: CatalogService }) {
  return {
    async list(userId: number, page: { limit: number; cursor?: string }) {
      const before =
        page.cursor === undefined ? null : Number(decodeCursor(page.cursor, CURSOR_SORT, ['int'])[0]);
      const rows = await repo.listItems(db, userId, before, page.limit + 1);
      const items = rows.slice(0, page.limit);
      const products = await catalog.liveProductSummaries(items.map((item) => item.product_id));
      const last = items.at(-1);
      return {
        items: items.flatMap((item) => {
          const product = products.get(item.product_id);
          return product ? [itemView(item, product)] : [];
        }),
        next_cursor: rows.length > page.limit && last ? encodeCursor(CURSOR_SORT, [last.id]) : null,
      };
    },

    /** Adds a product; adding it again changes nothing and says so (`created` false). */
    async add(userId: number, productId: number) {
      const products = await catalog.liveProductSummaries([productId]);
      const product = products.get(productId);
      if (!product) {
        throw new AppError('unknown_reference', `Product ${productId} does not exist`, [
          { path: 'body.product_id', message: 'no such product' },
        ]);
      }
      const { item, created } = await db.transaction(async (tx) => {
        const wishlistId = await repo.ensureWishlist(tx, userId);
        return repo.addItem(tx, wishlistId, productId);
      });
      return { item: itemView(item, product), created };
    },

    async remove(userId: number, productId: number) {
      if (!(await repo.removeItem(db, userId, productId))) {
        throw new AppError('not_found', `Product ${productId} is not in your wishlist`);
      }
    },
  };
}

export type WishlistService = ReturnType<typeof createWishlistService>;
