import type { Database, Queryable } from '../../platform/db/index.js';
import { PgErrorCode, pgErrorCode } from '../../platform/db/index.js';
import { AppError } from '../../platform/http/errors.js';
import { formatCents, toCents } from '../../platform/money.js';
import { currentPrices, type ProductPrice, type StockLine } from '../catalog/stock.js';
import * as repo from './repo.js';

export const MAX_LINE_QUANTITY = 999;

function present(item: repo.CartItemRow, product: ProductPrice | undefined) {
  // A product hard-deleted meanwhile has no row; show the line as unavailable rather than failing the cart.
  const shown = product ?? {
    id: item.product_id,
    name: '',
    price: '0.00',
    stock_quantity: 0,
    available: false,
  };
  return {
    id: item.id,
    product_id: item.product_id,
    product: {
      id: shown.id,
      name: shown.name,
      price: shown.price,
      stock_quantity: shown.available ? shown.stock_quantity : 0,
      available: shown.available,
    },
    quantity: item.quantity,
    cents: toCents(shown.price) * BigInt(item.quantity),
  };
}

function withLineTotal({ cents, ...item }: ReturnType<typeof present>) {
  return { ...item, line_total: formatCents(cents) };
}

export function createCartService({ db }: { db: Database }) {
  async function view(item: repo.CartItemRow) {
    const prices = await currentPrices(db, [item.product_id]);
    return withLineTotal(present(item, prices.get(item.product_id)));
  }

  return {
    /** The cart at today's prices; totals are exact (integer cents). */
    async getCart(userId: number) {
      const cartId = (await repo.findCartId(db, userId)) ?? (await repo.ensureCart(db, userId));
      const items = await repo.listItems(db, cartId);
      const prices = await currentPrices(
        db,
        items.map((item) => item.product_id),
      );
      const lines = items.map((item) => present(item, prices.get(item.product_id)));
      const total = lines.reduce((sum, line) => sum + line.cents, 0n);
      return { id: cartId, items: lines.map(withLineTotal), total: formatCents(total) };
    },

    /** Adds to the product's line; a line may hold at most 999, and going over is a 409 that changes nothing. */
    async addItem(userId: number, productId: number, quantity: number) {
      const product = (await currentPrices(db, [productId])).get(productId);
      if (!product?.available) {
        throw new AppError('unknown_reference', `Product ${productId} does not exist`, [
          { path: 'body.product_id', message: 'does not name an available product' },
        ]);
      }
      try {
        // Shown at the price just read: the same request's view of the product.
        return withLineTotal(present(await repo.addToLine(db, userId, productId, quantity), product));
      } catch (error) {
        if (pgErrorCode(error) === PgErrorCode.checkViolation) {
          throw new AppError(
            'conflict',
            `A cart line holds at most ${MAX_LINE_QUANTITY}; this would take product ${productId} above it`,
            [{ path: 'body.quantity', message: `line total would exceed ${MAX_LINE_QUANTITY}` }],
          );
        }
        if (pgErrorCode(error) === PgErrorCode.foreignKeyViolation) {
          throw new AppError('unknown_reference', `Product ${productId} does not exist`);
        }
        throw error;
      }
    },

    async updateItem(userId: number, itemId: number, quantity: number) {
      const item = await repo.setQuantity(db, userId, itemId, quantity);
      if (!item) throw new AppError('not_found', `Cart item ${itemId} does not exist`);
      return view(item);
    },

    async removeItem(userId: number, itemId: number): Promise<void> {
      if (!(await repo.deleteItem(db, userId, itemId))) {
        throw new AppError('not_found', `Cart item ${itemId} does not exist`);
      }
    },

    async clear(userId: number): Promise<void> {
      const cartId = await repo.findCartId(db, userId);
      if (cartId !== undefined) await repo.deleteAllItems(db, cartId);
    },

    /**
     * For checkout, inside its transaction: takes the cart's lines out of the cart (empty when there is none).
     * They are gone once the checkout commits, and back if it rolls back; see repo.takeLines.
     */
    async takeForCheckout(tx: Queryable, userId: number): Promise<StockLine[]> {
      const lines = await repo.takeLines(tx, userId);
      return lines.map((line) => ({ productId: line.product_id, quantity: line.quantity }));
    },
  };
}

export type CartService = ReturnType<typeof createCartService>;
