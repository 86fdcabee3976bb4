import { type Database, PgErrorCode, pgErrorCode } from '../../platform/db/index.js';
import { type AuthUser, hasRole } from '../../platform/http/auth.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { AppError } from '../../platform/http/errors.js';
import type { CatalogService } from '../catalog/service.js';
import * as repo from './repo.js';

/**
 * Reviews: one per user and product, rating 1..5. Every write moves the product's rating aggregates through
 * the catalog in the same transaction, so the rating a product shows always matches its committed reviews.
 */

const CURSOR_SORT = '-id';

export interface ReviewInput {
  rating?: number;
  comment?: string;
}

function reviewNotFound(id: number) {
  return new AppError('not_found', `Review ${id} does not exist`);
}

export function createReviewsService({ db, catalog }: { db: Database; catalog: CatalogService }) {
  return {
    async list(productId: number, page: { limit: number; cursor?: string }) {
      if (!(await catalog.isLiveProduct(productId))) {
        throw new AppError('not_found', `Product ${productId} does not exist`);
      }
      const before =
        page.cursor === undefined ? null : Number(decodeCursor(page.cursor, CURSOR_SORT, ['int'])[0]);
      const rows = await repo.listReviews(db.reader, productId, before, page.limit + 1);
      const items = rows.slice(0, page.limit);
      const last = items.at(-1);
      return {
        items,
        next_cursor: rows.length > page.limit && last ? encodeCursor(CURSOR_SORT, [last.id]) : null,
      };
    },

    async create(user: AuthUser, productId: number, input: { rating: number; comment?: string }) {
      try {
        const created = await db.transaction(async (tx) => {
          // The insert comes first: its unique check then waits on a concurrent delete of the same user's
          // review before this transaction holds the product row, so the two cannot deadlock.
          const review = await repo.insertReview(tx, {
            productId,
            userId: user.id,
            rating: input.rating,
            comment: input.comment ?? '',
          });
          await catalog.adjustRating(tx, productId, { sum: input.rating, count: 1 });
          return review;
        });
        // The product's rating changed: its cached detail and the list pages that show it.
        await catalog.invalidateProducts([productId]);
        return created;
      } catch (error) {
        const code = pgErrorCode(error);
        if (code === PgErrorCode.uniqueViolation) {
          throw new AppError('duplicate', `You have already reviewed product ${productId}`);
        }
        if (code === PgErrorCode.foreignKeyViolation) {
          throw new AppError('not_found', `Product ${productId} does not exist`);
        }
        throw error;
      }
    },

    /** Only the author may edit; another user's review answers as if it did not exist. */
    async update(user: AuthUser, id: number, input: ReviewInput) {
      const { productId, updated } = await db.transaction(async (tx) => {
        const review = await repo.lockReview(tx, id, user.id);
        if (!review) throw reviewNotFound(id);
        const delta = input.rating === undefined ? 0 : input.rating - review.rating;
        // Also with no rating change: a review of a deleted product is gone with it.
        await catalog.adjustRating(tx, review.product_id, { sum: delta, count: 0 });
        return { productId: review.product_id, updated: await repo.updateReview(tx, id, input) };
      });
      if (input.rating !== undefined) await catalog.invalidateProducts([productId]);
      return updated;
    },

    /** The author, or a manager moderating, may delete. */
    async remove(user: AuthUser, id: number) {
      const productId = await db.transaction(async (tx) => {
        const review = await repo.lockReview(tx, id, hasRole(user, 'manager') ? null : user.id);
        if (!review) throw reviewNotFound(id);
        await catalog.adjustRating(tx, review.product_id, { sum: -review.rating, count: -1 });
        await repo.deleteReview(tx, id);
        return review.product_id;
      });
      await catalog.invalidateProducts([productId]);
    },
  };
}

export type ReviewsService = ReturnType<typeof createReviewsService>;
