import { prepared, type Queryable, type Transaction } from '../../platform/db/index.js';
import type { TakenLine } from '../catalog/stock.js';
import type { OrderStatus } from './state.js';

export interface OrderItemRow {
  id: number;
  product_id: number;
  product_name: string;
  quantity: number;
  price: string;
}

export interface OrderRow {
  id: number;
  user_id: number;
  order_status: OrderStatus;
  total_amount: string;
  created_at: Date;
  updated_at: Date;
  items: OrderItemRow[];
}

const ORDER_COLUMNS = `o.id, o.user_id, o.order_status, o.total_amount::text AS total_amount, o.created_at, o.updated_at`;
const ITEM_JSON = `json_build_object('id', oi.id, 'product_id', oi.product_id, 'product_name', oi.product_name,
                                     'quantity', oi.quantity, 'price', oi.price::text)`;
const ITEMS_OF_O = `coalesce((SELECT json_agg(${ITEM_JSON} ORDER BY oi.id) FROM order_items oi
                              WHERE oi.order_id = o.id), '[]'::json) AS items`;

/** The order and its lines in one statement. */
export async function insertOrder(
  tx: Queryable,
  userId: number,
  total: string,
  lines: readonly TakenLine[],
): Promise<OrderRow> {
  const { rows } = await tx.query<OrderRow>(
    prepared(`WITH o AS (
       INSERT INTO orders (user_id, total_amount) VALUES ($1, $2)
       RETURNING id, user_id, order_status, total_amount, created_at, updated_at
     ), oi AS (
       INSERT INTO order_items (order_id, product_id, product_name, quantity, price)
       SELECT o.id, l.product_id, l.name, l.quantity, l.price
         FROM o, unnest($3::int[], $4::text[], $5::int[], $6::numeric[]) AS l(product_id, name, quantity, price)
       RETURNING id, product_id, product_name, quantity, price
     )
     SELECT ${ORDER_COLUMNS},
            (SELECT json_agg(${ITEM_JSON} ORDER BY oi.id) FROM oi) AS items
       FROM o`),
    [
      userId,
      total,
      lines.map((line) => line.productId),
      lines.map((line) => line.name),
      lines.map((line) => line.quantity),
      lines.map((line) => line.price),
    ],
  );
  return rows[0] as OrderRow;
}

export async function findOrder(db: Queryable, id: number): Promise<OrderRow | undefined> {
  const { rows } = await db.query<OrderRow>(
    prepared(`SELECT ${ORDER_COLUMNS}, ${ITEMS_OF_O} FROM orders o WHERE o.id = $1`),
    [id],
  );
  return rows[0];
}

export interface LockedOrder {
  id: number;
  user_id: number;
  order_status: OrderStatus;
}

export async function lockOrder(tx: Queryable, id: number): Promise<LockedOrder | undefined> {
  const { rows } = await tx.query<LockedOrder>(
    prepared('SELECT id, user_id, order_status FROM orders WHERE id = $1 FOR UPDATE'),
    [id],
  );
  return rows[0];
}

const SET_STATUS = prepared('UPDATE orders SET order_status = $2, updated_at = now() WHERE id = $1');

/**
 * Sets the status of an order this transaction locked (lockOrder): sent with the transaction's next statement or
 * its COMMIT (Transaction.defer), since nothing waits on its answer; its failure fails the transaction.
 */
export function setStatus(tx: Transaction, id: number, status: OrderStatus): void {
  void tx.defer(SET_STATUS, [id, status]);
}

export async function orderLines(
  tx: Queryable,
  id: number,
): Promise<{ productId: number; quantity: number }[]> {
  const { rows } = await tx.query<{ productId: number; quantity: number }>(
    prepared('SELECT product_id AS "productId", quantity FROM order_items WHERE order_id = $1'),
    [id],
  );
  return rows;
}

export interface OrderFilter {
  userId?: number;
  status?: OrderStatus;
}

/** Newest first, keyset on id: any page costs what the first does (orders_user_id_idx, orders_status_idx). */
export async function listOrders(
  db: Queryable,
  filter: OrderFilter,
  beforeId: number | null,
  limit: number,
): Promise<OrderRow[]> {
  const { rows } = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS}, ${ITEMS_OF_O}
       FROM orders o
      WHERE ($1::int IS NULL OR o.user_id = $1)
        AND ($2::text IS NULL OR o.order_status = $2)
        AND ($3::int IS NULL OR o.id < $3)
      ORDER BY o.id DESC
      LIMIT $4`,
    [filter.userId ?? null, filter.status ?? null, beforeId, limit],
  );
  return rows;
}
