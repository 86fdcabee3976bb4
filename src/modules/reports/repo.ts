import type { Queryable } from '../../platform/db/index.js';

/** The reports' SQL: aggregates over orders and order_items. Only orders that were paid count as sales. */

const SOLD = `o.order_status IN ('paid', 'shipped', 'delivered')`;

export interface DailySalesRow {
  day: string;
  orders: number;
  revenue: string;
}

/** One row per UTC day of the window, days without sales included (as zeros), oldest first. */
export async function dailySales(db: Queryable, days: number): Promise<DailySalesRow[]> {
  const { rows } = await db.query<DailySalesRow>(
    `WITH window_days AS (
       SELECT generate_series(
         (now() AT TIME ZONE 'UTC')::date - ($1::int - 1), (now() AT TIME ZONE 'UTC')::date, interval '1 day'
       )::date AS day
     )
     SELECT to_char(w.day, 'YYYY-MM-DD') AS day,
            count(o.id)::int AS orders,
            coalesce(sum(o.total_amount), 0)::numeric(14, 2)::text AS revenue
       FROM window_days w
       LEFT JOIN orders o
         ON (o.created_at AT TIME ZONE 'UTC')::date = w.day AND ${SOLD}
      GROUP BY w.day
      ORDER BY w.day`,
    [days],
  );
  return rows;
}

export interface TopProductRow {
  product_id: number;
  name: string;
  quantity: number;
  revenue: string;
}

export async function topProducts(db: Queryable, days: number, limit: number): Promise<TopProductRow[]> {
  const { rows } = await db.query<TopProductRow>(
    `SELECT i.product_id, p.name,
            sum(i.quantity)::int AS quantity,
            sum(i.price * i.quantity)::numeric(14, 2)::text AS revenue
       FROM order_items i
       JOIN orders o ON o.id = i.order_id
       JOIN products p ON p.id = i.product_id
      WHERE ${SOLD}
        AND o.created_at >= ((now() AT TIME ZONE 'UTC')::date - ($1::int - 1))::timestamp AT TIME ZONE 'UTC'
      GROUP BY i.product_id, p.name
      ORDER BY sum(i.price * i.quantity) DESC, i.product_id
      LIMIT $2`,
    [days, limit],
  );
  return rows;
}

export interface LowStockRow {
  id: number;
  name: string;
  stock_quantity: number;
}

export async function lowStock(db: Queryable, threshold: number, limit: number): Promise<LowStockRow[]> {
  const { rows } = await db.query<LowStockRow>(
    `SELECT id, name, stock_quantity
       FROM products
      WHERE deleted_at IS NULL AND stock_quantity <= $1
      ORDER BY stock_quantity, id
      LIMIT $2`,
    [threshold, limit],
  );
  return rows;
}
