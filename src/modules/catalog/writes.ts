import { recordInvalidation } from '../../platform/cache/invalidation-job.js';
import {
  type Database,
  PgErrorCode,
  pgErrorCode,
  type Queryable,
  type Transaction,
} from '../../platform/db/index.js';
import { AppError } from '../../platform/http/errors.js';
import { catalogDeps, productDeps } from './cache-keys.js';
import * as categories from './category-repo.js';
import * as products from './product-writes-repo.js';
import * as repo from './repo.js';

/** The catalog's write rules: managers edit the category tree and the products. */

export interface CategoryInput {
  name?: string;
  parent_id?: number | null;
}

export interface ProductInput {
  name?: string;
  description?: string;
  price?: string;
  stock_quantity?: number;
  category_id?: number;
}

function unknownCategory(field: string, id: number) {
  return new AppError('unknown_reference', `Category ${id} does not exist`, [
    { path: `body.${field}`, message: 'no such category' },
  ]);
}

/** Maps the constraint errors a concurrent writer can still cause (after our checks) to answers. */
async function translated<T>(work: () => Promise<T>, onForeignKey: () => AppError): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = pgErrorCode(error);
    if (code === PgErrorCode.uniqueViolation) {
      throw new AppError('duplicate', 'A category with this name already exists under the same parent');
    }
    if (code === PgErrorCode.foreignKeyViolation) throw onForeignKey();
    throw error;
  }
}

export async function requireCategory(db: Queryable, id: number) {
  const category = await categories.findCategory(db, id);
  if (!category) throw new AppError('not_found', `Category ${id} does not exist`);
  return category;
}

export async function requireProduct(db: Queryable, id: number) {
  const product = await repo.findProduct(db, id);
  if (!product) throw new AppError('not_found', `Product ${id} does not exist`);
  return product;
}

/**
 * `invalidate` bumps cached answers after a write's commit (the catalog service's; nothing without a cache).
 */
export function createCatalogWrites(db: Database, invalidate: (deps: string[]) => Promise<void>) {
  const changedParent = () => new AppError('conflict', 'The category tree changed meanwhile; try again');
  /**
   * A write that changes the cached answers `deps` (for a created row, computed from the work's result): its
   * transaction also records their bump (recordInvalidation: the job makes it survive a process that dies after
   * the commit), and they are bumped right after the commit.
   */
  async function changing<T>(
    deps: string[] | ((result: T) => string[]),
    work: (tx: Transaction) => Promise<T>,
  ): Promise<T> {
    let changed: string[] = [];
    const result = await db.transaction(async (tx) => {
      const done = await work(tx);
      changed = typeof deps === 'function' ? deps(done) : deps;
      await recordInvalidation(tx, changed);
      return done;
    });
    await invalidate(changed);
    return result;
  }
  return {
    createCategory(input: Required<Pick<CategoryInput, 'name'>> & CategoryInput) {
      const parentId = input.parent_id ?? null;
      return translated(
        () =>
          changing(catalogDeps(), async (tx) => {
            if (parentId !== null && !(await categories.categoryExists(tx, parentId))) {
              throw unknownCategory('parent_id', parentId);
            }
            const id = await categories.insertCategory(tx, input.name, parentId);
            return requireCategory(tx, id);
          }),
        () => unknownCategory('parent_id', parentId ?? 0),
      );
    },

    updateCategory(id: number, input: CategoryInput) {
      return translated(
        () =>
          changing(catalogDeps(), async (tx) => {
            const parentId = input.parent_id;
            if (parentId !== undefined && parentId !== null) {
              await categories.lockTree(tx);
              if (!(await categories.categoryExists(tx, parentId)))
                throw unknownCategory('parent_id', parentId);
              if (await categories.isSelfOrAncestor(tx, id, parentId)) {
                throw new AppError('validation', 'A category cannot move under itself or its descendants', [
                  { path: 'body.parent_id', message: 'would make a cycle' },
                ]);
              }
            }
            const found = await categories.updateCategory(tx, id, { name: input.name, parentId });
            if (!found) throw new AppError('not_found', `Category ${id} does not exist`);
            return requireCategory(tx, id);
          }),
        changedParent,
      );
    },

    deleteCategory(id: number) {
      const inUse = () => new AppError('conflict', `Category ${id} still holds products or child categories`);
      return translated(
        () =>
          changing(catalogDeps(), async (tx) => {
            const usage = await categories.categoryUsage(tx, id);
            if (usage.products || usage.children) throw inUse();
            if (!(await categories.deleteCategory(tx, id))) {
              throw new AppError('not_found', `Category ${id} does not exist`);
            }
          }),
        inUse,
      );
    },

    createProduct(input: Required<Omit<ProductInput, 'description'>> & ProductInput) {
      return translated(
        () =>
          changing<repo.ProductDetailRow>(
            (row) => productDeps([row.id]),
            async (tx) => {
              if (!(await categories.categoryExists(tx, input.category_id))) {
                throw unknownCategory('category_id', input.category_id);
              }
              const id = await products.insertProduct(tx, {
                name: input.name,
                description: input.description ?? '',
                price: input.price,
                stockQuantity: input.stock_quantity,
                categoryId: input.category_id,
              });
              return requireProduct(tx, id);
            },
          ),
        () => unknownCategory('category_id', input.category_id),
      );
    },

    updateProduct(id: number, input: ProductInput) {
      const categoryId = input.category_id;
      return translated(
        () =>
          changing(productDeps([id]), async (tx) => {
            if (categoryId !== undefined && !(await categories.categoryExists(tx, categoryId))) {
              throw unknownCategory('category_id', categoryId);
            }
            const found = await products.updateProduct(tx, id, {
              name: input.name,
              description: input.description,
              price: input.price,
              stockQuantity: input.stock_quantity,
              categoryId,
            });
            if (!found) throw new AppError('not_found', `Product ${id} does not exist`);
            return requireProduct(tx, id);
          }),
        () => unknownCategory('category_id', categoryId ?? 0),
      );
    },

    deleteProduct(id: number): Promise<void> {
      return changing(productDeps([id]), async (tx) => {
        if (!(await products.softDeleteProduct(tx, id))) {
          throw new AppError('not_found', `Product ${id} does not exist`);
        }
      });
    },

    /**
     * Moves a product's rating by a review write, inside the caller's transaction (so the rating commits or
     * rolls back with the review), and records the invalidation of the answers that show the rating when it
     * moves (a zero change only checks that the product is there). Throws not_found when the product is unknown
     * or deleted. The caller bumps them after its commit (CatalogService.invalidateProducts).
     */
    async adjustRating(tx: Queryable, productId: number, change: { sum: number; count: number }) {
      if (!(await products.adjustRating(tx, productId, change.sum, change.count))) {
        throw new AppError('not_found', `Product ${productId} does not exist`);
      }
      if (change.sum !== 0 || change.count !== 0) await recordInvalidation(tx, productDeps([productId]));
    },
  };
}
