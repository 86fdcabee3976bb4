import type { Database } from '../../platform/db/index.js';
import * as repo from './repo.js';

export interface StatsQuery {
  days: number;
  top: number;
  lowStockThreshold: number;
}

/** The manager dashboard's figures: sales per day, best sellers and products running out. */
export function createReportsService({ db }: { db: Database }) {
  return {
    async stats(query: StatsQuery) {
      // Read from the primary: a manager who just moved an order expects to see it counted.
      const [salesByDay, topProducts, lowStock] = await Promise.all([
        repo.dailySales(db, query.days),
        repo.topProducts(db, query.days, query.top),
        repo.lowStock(db, query.lowStockThreshold, 50),
      ]);
      const revenue = salesByDay.reduce((cents, day) => cents + toCents(day.revenue), 0n);
      return {
        days: query.days,
        totals: {
          orders: salesByDay.reduce((sum, day) => sum + day.orders, 0),
          revenue: fromCents(revenue),
        },
        sales_by_day: salesByDay,
        top_products: topProducts,
        low_stock: lowStock,
      };
    },
  };
}

/** Money sums in integer cents: "19.99" -> 1999n, never through a float. */
function toCents(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
}

function fromCents(cents: bigint): string {
  const whole = cents / 100n;
  const fraction = (cents % 100n).toString().padStart(2, '0');
  return `${whole}.${fraction}`;
}

export type ReportsService = ReturnType<typeof createReportsService>;
