import { Type } from '@sinclair/typebox';
import { Money, problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { ReportsService } from './service.js';

const StatsQuery = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 366, default: 30, description: 'Window in UTC days' }),
    ),
    top: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'How many best sellers' }),
    ),
    low_stock_threshold: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000,
        default: 5,
        description: 'Stock at or below this is low',
      }),
    ),
  },
  { additionalProperties: false },
);

const Stats = Type.Object({
  days: Type.Integer(),
  totals: Type.Object({ orders: Type.Integer(), revenue: Money }),
  sales_by_day: Type.Array(
    Type.Object({
      day: Type.String({ format: 'date' }),
      orders: Type.Integer(),
      revenue: Money,
    }),
    { description: 'Every UTC day of the window, oldest first; paid, shipped and delivered orders count' },
  ),
  top_products: Type.Array(
    Type.Object({
      product_id: Type.Integer(),
      name: Type.String(),
      quantity: Type.Integer(),
      revenue: Money,
    }),
  ),
  low_stock: Type.Array(
    Type.Object({ id: Type.Integer(), name: Type.String(), stock_quantity: Type.Integer() }),
    { description: 'Live products at or below the threshold, emptiest first (at most 50)' },
  ),
});

export async function reportsRoutes(app: HttpServer, { reports }: { reports: ReportsService }) {
  app.get(
    '/api/admin/stats/',
    {
      config: { auth: 'manager' },
      schema: {
        tags: ['reports'],
        summary: 'Sales per day, top products and low stock for the manager dashboard',
        security: [{ bearer: [] }],
        querystring: StatsQuery,
        response: { 200: Stats, ...problems(400, 401, 403) },
      },
    },
    (request) =>
      reports.stats({
        days: request.query.days ?? 30,
        top: request.query.top ?? 10,
        lowStockThreshold: request.query.low_stock_threshold ?? 5,
      }),
  );
}
