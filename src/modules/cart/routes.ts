import { IdParam, problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import * as schemas from './schemas.js';
import type { CartService } from './service.js';

const common = { tags: ['cart'], security: [{ bearer: [] }] };

export async function cartRoutes(app: HttpServer, { cart }: { cart: CartService }) {
  app.get(
    '/api/cart/',
    {
      config: { auth: 'customer' },
      schema: {
        ...common,
        summary: "The caller's cart at current prices, with exact line totals and total",
        response: { 200: schemas.Cart, ...problems(401) },
      },
    },
    (request) => cart.getCart(request.user!.id),
  );

  app.post(
    '/api/cart/items/',
    {
      config: { auth: 'customer' },
      schema: {
        ...common,
        summary: 'Add a product (adds to its existing line)',
        description:
          'quantity 1..999. A line holds at most 999: an addition that would take it above is a 409 and ' +
          'changes nothing. A deleted or unknown product is a 400.',
        body: schemas.AddItem,
        response: { 201: schemas.CartItem, ...problems(400, 401, 409) },
      },
    },
    async (request, reply) => {
      const item = await cart.addItem(request.user!.id, request.body.product_id, request.body.quantity);
      return reply.code(201).send(item);
    },
  );

  app.patch(
    '/api/cart/items/:id/',
    {
      config: { auth: 'customer' },
      schema: {
        ...common,
        summary: "Set a line's quantity (1..999)",
        params: IdParam,
        body: schemas.UpdateItem,
        response: { 200: schemas.CartItem, ...problems(400, 401, 404) },
      },
    },
    (request) => cart.updateItem(request.user!.id, request.params.id, request.body.quantity),
  );

  app.delete(
    '/api/cart/items/:id/',
    {
      config: { auth: 'customer' },
      schema: { ...common, summary: 'Remove a line', params: IdParam, response: problems(400, 401, 404) },
    },
    async (request, reply) => {
      await cart.removeItem(request.user!.id, request.params.id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/api/cart/',
    {
      config: { auth: 'customer' },
      schema: { ...common, summary: 'Empty the cart', response: problems(401) },
    },
    async (request, reply) => {
      await cart.clear(request.user!.id);
      return reply.code(204).send();
    },
  );
}
