import { type TSchema, Type } from '@sinclair/typebox';

/** Schemas shared by every module's routes. */

export const IdParam = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) },
  {
    additionalProperties: false,
  },
);

export const Money = Type.String({ pattern: '^-?\\d+\\.\\d{2}$', examples: ['19.99'] });

export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });

export const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });

export const Cursor = Type.String({ minLength: 1, maxLength: 512, description: 'Opaque; from next_cursor' });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String(),
          message: Type.String(),
          product_id: Type.Optional(Type.Integer()),
          requested: Type.Optional(Type.Integer()),
          available: Type.Optional(Type.Integer()),
        }),
      ),
    ),
    request_id: Type.Optional(Type.String()),
  },
  { $id: 'Problem' },
);

export const ProblemRef = Type.Ref(ProblemSchema);

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
}

/** The error answers a route can give, for its response schema and the OpenAPI document. */
export function problems(...statuses: number[]): Record<number, typeof ProblemRef> {
  return Object.fromEntries(statuses.map((status) => [status, ProblemRef]));
}
