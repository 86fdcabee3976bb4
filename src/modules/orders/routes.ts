import type { Static } from '@sinclair/typebox';
import { IdParam, problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import * as schemas from './schemas.js';
import type { OrdersService } from './service.js';

const common = { tags: ['orders'], security: [{ bearer: [] }] };

export async function orderRoutes(app: HttpServer, { orders }: { orders: OrdersService }) {
  app.post(
    '/api/orders/',
    {
      config: { auth: 'customer' },
      schema: {
        ...common,
        summary: "Check out the caller's cart",
        description:
          'One transaction takes the stock, records the order at current prices with a pending payment, ' +
          'empties the cart and queues the capture. 400: empty cart. 409 insufficient_stock: `errors` names ' +
          'each short product with `requested` and `available`, and nothing changed. 409 idempotency_mismatch: ' +
          'the key was used with another body. 2xx and 4xx answers are stored under the key and replayed.',
        headers: schemas.CheckoutHeaders,
        body: schemas.Checkout,
        response: { 201: schemas.Order, ...problems(400, 401, 409) },
      },
    },
    async (request, reply) => {
      const answer = await orders.placeOrder(
        request.user!,
        request.body,
        request.headers['idempotency-key'],
        request.id,
      );
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      if (answer.status >= 400) reply.type('application/problem+json');
      // A stored answer is one of the declared responses (the 201 order or a problem), replayed verbatim.
      return reply.code(answer.status as 201).send(answer.body as Static<typeof schemas.Order>);
    },
  );

  app.get(
    '/api/orders/',
    {
      config: { auth: 'customer' },
      schema: {
        ...common,
        summary: 'Orders, newest first: your own; managers see all and may filter by user_id',
        querystring: schemas.OrderListQuery,
        response: { 200: schemas.OrderList, ...problems(400, 401) },
      },
    },
    (request) => orders.listOrders(request.user!, { ...request.query, limit: request.query.limit ?? 20 }),
  );

  app.get(
    '/api/orders/:id/',
    {
      config: { auth: 'customer' },
      schema: {
        ...common,
        summary: "An order with its items and payment (another customer's is a 404)",
        params: IdParam,
        response: { 200: schemas.Order, ...problems(400, 401, 404) },
      },
    },
    (request) => orders.getOrder(request.user!, request.params.id),
  );

  app.post(
    '/api/orders/:id/cancel/',
    {
      config: { auth: 'customer' },
      schema: {
        ...common,
        summary: 'Cancel your pending or paid order: restocks, refunds a captured payment (409 otherwise)',
        params: IdParam,
        response: { 200: schemas.Order, ...problems(400, 401, 404, 409) },
      },
    },
    (request) => orders.cancelOrder(request.user!, request.params.id),
  );

  app.patch(
    '/api/orders/:id/',
    {
      config: { auth: 'manager' },
      schema: {
        ...common,
        summary: 'Move an order along: paid -> shipped -> delivered (any other change is a 409)',
        params: IdParam,
        body: schemas.StatusChange,
        response: { 200: schemas.Order, ...problems(400, 401, 403, 404, 409) },
      },
    },
    (request) => orders.setStatus(request.params.id, request.body.order_status),
  );
}
