import { Type } from '@sinclair/typebox';
import { Cursor, Limit, Page, problems, Timestamp } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import { ProductSummary } from '../catalog/schemas.js';
import type { WishlistService } from './service.js';

const WishlistItem = Type.Object({
  product_id: Type.Integer(),
  added_at: Timestamp,
  product: ProductSummary,
});

const AddItem = Type.Object(
  { product_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) },
  { additionalProperties: false },
);

const ProductIdParam = Type.Object(
  { product_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) },
  { additionalProperties: false },
);

const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

// Every route needs a signed-in customer, so the auth plugin has set request.user before a handler runs.
export async function wishlistRoutes(app: HttpServer, { wishlist }: { wishlist: WishlistService }) {
  const config = { auth: 'customer' as const };
  const security = [{ bearer: [] }];

  app.get(
    '/api/wishlist/',
    {
      config,
      schema: {
        tags: ['wishlist'],
        summary: 'My wishlist, newest first, in keyset pages; deleted products are left out',
        security,
        querystring: PageQuery,
        response: { 200: Page(WishlistItem), ...problems(400, 401) },
      },
    },
    (request) =>
      wishlist.list(request.user!.id, { limit: request.query.limit ?? 20, cursor: request.query.cursor }),
  );

  app.post(
    '/api/wishlist/items/',
    {
      config,
      schema: {
        tags: ['wishlist'],
        summary: 'Add a product: 201, or 200 when it was already there',
        security,
        body: AddItem,
        response: { 200: WishlistItem, 201: WishlistItem, ...problems(400, 401) },
      },
    },
    async (request, reply) => {
      const { item, created } = await wishlist.add(request.user!.id, request.body.product_id);
      return reply.code(created ? 201 : 200).send(item);
    },
  );

  app.delete(
    '/api/wishlist/items/:product_id/',
    {
      config,
      schema: {
        tags: ['wishlist'],
        summary: 'Remove a product; 404 when it is not in the wishlist',
        security,
        params: ProductIdParam,
        response: { 204: Type.Null(), ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await wishlist.remove(request.user!.id, request.params.product_id);
      return reply.code(204).send(null);
    },
  );
}
