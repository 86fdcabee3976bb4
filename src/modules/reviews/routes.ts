import { Type } from '@sinclair/typebox';
import { Cursor, IdParam, Limit, Page, problems, Timestamp } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import type { ReviewsService } from './service.js';

const Review = Type.Object({
  id: Type.Integer(),
  product_id: Type.Integer(),
  user_id: Type.Integer(),
  rating: Type.Integer({ minimum: 1, maximum: 5 }),
  comment: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Rating = Type.Integer({ minimum: 1, maximum: 5 });
const Comment = Type.String({ maxLength: 5_000 });

const ReviewCreate = Type.Object(
  { rating: Rating, comment: Type.Optional(Comment) },
  { additionalProperties: false },
);
const ReviewUpdate = Type.Object(
  { rating: Type.Optional(Rating), comment: Type.Optional(Comment) },
  { additionalProperties: false, minProperties: 1 },
);
const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export async function reviewRoutes(app: HttpServer, { reviews }: { reviews: ReviewsService }) {
  const customer = { auth: 'customer' as const };
  const security = [{ bearer: [] }];

  app.get(
    '/api/products/:id/reviews/',
    {
      schema: {
        tags: ['reviews'],
        summary: "A product's reviews, newest first, in keyset pages",
        params: IdParam,
        querystring: PageQuery,
        response: { 200: Page(Review), ...problems(400, 404) },
      },
    },
    (request) =>
      reviews.list(request.params.id, { limit: request.query.limit ?? 20, cursor: request.query.cursor }),
  );

  app.post(
    '/api/products/:id/reviews/',
    {
      config: customer,
      schema: {
        tags: ['reviews'],
        summary: 'Review a product: one review per user and product (409 on a second)',
        security,
        params: IdParam,
        body: ReviewCreate,
        response: { 201: Review, ...problems(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const review = await reviews.create(request.user!, request.params.id, request.body);
      return reply.code(201).send(review);
    },
  );

  app.patch(
    '/api/reviews/:id/',
    {
      config: customer,
      schema: {
        tags: ['reviews'],
        summary: "Change one's own review (another user's review is a 404)",
        security,
        params: IdParam,
        body: ReviewUpdate,
        response: { 200: Review, ...problems(400, 401, 404) },
      },
    },
    (request) => reviews.update(request.user!, request.params.id, request.body),
  );

  app.delete(
    '/api/reviews/:id/',
    {
      config: customer,
      schema: {
        tags: ['reviews'],
        summary: "Delete one's own review; a manager may delete any",
        security,
        params: IdParam,
        response: { 204: Type.Null(), ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await reviews.remove(request.user!, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
