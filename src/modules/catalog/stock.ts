import { recordInvalidation } from '../../platform/cache/invalidation-job.js';
import type { Queryable, Transaction } from '../../platform/db/index.js';
import { stockDeps } from './cache-keys.js';
import * as repo from './stock-repo.js';

/**
 * Stock and prices, for the modules that sell (cart, orders). Every function takes the caller's transaction,
 * so taking stock commits or rolls back with the order that needed it.
 */

export interface StockLine {
  productId: number;
  quantity: number;
}

export interface TakenLine extends StockLine {
  name: string;
  /** The price at the moment the stock was taken: what the buyer pays. */
  price: string;
}

export interface ShortLine {
  productId: number;
  name: string | null;
  requested: number;
  available: number;
}

/** Quantities per product, summed (one line per product) and sorted by product id. */
function merge(lines: readonly StockLine[]): StockLine[] {
  const byProduct = new Map<number, number>();
  for (const line of lines)
    byProduct.set(line.productId, (byProduct.get(line.productId) ?? 0) + line.quantity);
  return [...byProduct].sort(([a], [b]) => a - b).map(([productId, quantity]) => ({ productId, quantity }));
}

function shortLines(
  wanted: readonly StockLine[],
  products: Map<number, { name: string; stock_quantity: number; deleted: boolean }>,
): ShortLine[] {
  const short: ShortLine[] = [];
  for (const line of wanted) {
    const product = products.get(line.productId);
    const available = product && !product.deleted ? product.stock_quantity : 0;
    if (available < line.quantity) {
      short.push({
        productId: line.productId,
        name: product?.name ?? null,
        requested: line.quantity,
        available,
      });
    }
  }
  return short;
}

export type TakeResult = { ok: true; lines: TakenLine[] } | { ok: false; short: ShortLine[] };

/**
 * Takes every line or none, and prices them: the products' rows are locked in id order (see
 * stock-repo.lockProducts) and checked; when every line is covered they are decremented, and the lines come back
 * merged by product with the name and price of the locked row, which is what the buyer pays. When any line is
 * short (a deleted or unknown product counts as none available), nothing is changed and the short lines are
 * returned. The row locks are held until the caller commits: every other buyer of the product waits for them.
 * The decrement travels with the caller's next statement (Transaction.defer: one round trip fewer), and fails
 * the transaction if it ever misses a row.
 */
export async function takeStock(tx: Transaction, lines: readonly StockLine[]): Promise<TakeResult> {
  const wanted = merge(lines);
  const ids = wanted.map((line) => line.productId);
  const byId = new Map((await repo.lockProducts(tx, ids)).map((row) => [row.id, row]));
  const short = shortLines(wanted, byId);
  if (short.length > 0) return { ok: false, short };
  repo.decrementStock(
    tx,
    ids,
    wanted.map((line) => line.quantity),
  );
  return {
    ok: true,
    lines: wanted.map((line) => {
      const product = byId.get(line.productId) as repo.LockedProduct;
      return { ...line, name: product.name, price: product.price };
    }),
  };
}

/**
 * Puts stock back (a canceled order, a declined payment). Rows are locked in id order first, like takeStock, so
 * the two never deadlock. Records the invalidation of the products' details in the same transaction; the
 * caller bumps them after its commit as well (the orders service's stockChanged).
 */
export async function restock(tx: Queryable, lines: readonly StockLine[]): Promise<void> {
  const wanted = merge(lines);
  const ids = wanted.map((line) => line.productId);
  await repo.lockProducts(tx, ids);
  await repo.incrementStock(
    tx,
    ids,
    wanted.map((line) => line.quantity),
  );
  await recordInvalidation(tx, stockDeps(ids));
}

export type ProductPrice = repo.ProductPrice;

/** Current name, price and stock of each product (deleted ones with available false), by id. */
export async function currentPrices(
  db: Queryable,
  ids: readonly number[],
): Promise<Map<number, ProductPrice>> {
  if (ids.length === 0) return new Map();
  return new Map((await repo.findPrices(db, ids)).map((row) => [row.id, row]));
}
