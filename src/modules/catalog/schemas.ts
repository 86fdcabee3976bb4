import { Type } from '@sinclair/typebox';
import { Cursor, Limit, Money, Page, Timestamp } from '../../platform/http/schemas.js';
import { SORTS } from './repo.js';

const Ref = Type.Object({ id: Type.Integer(), name: Type.String() });
const Rating = Type.Object({ average: Type.Number(), count: Type.Integer() });

export const Category = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  parent_id: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const CategoryDetail = Type.Composite([
  Category,
  Type.Object({
    children: Type.Array(Ref),
    path: Type.Array(Ref, { description: 'From the root down to this category' }),
  }),
]);

export const CategoryList = Page(Category);

export const ProductSummary = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  price: Money,
  stock_quantity: Type.Integer(),
  category_id: Type.Integer(),
  rating: Rating,
  thumbnail_url: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const ProductList = Page(ProductSummary);

export const Product = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  price: Money,
  stock_quantity: Type.Integer(),
  category: Ref,
  images: Type.Array(
    Type.Object({
      id: Type.Integer(),
      status: Type.Union([Type.Literal('processing'), Type.Literal('ready'), Type.Literal('failed')]),
      url: Type.Union([Type.String(), Type.Null()]),
      thumbnail_url: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  rating: Rating,
  created_at: Timestamp,
  updated_at: Timestamp,
});

const PriceFilter = Type.String({
  pattern: '^\\d{1,10}(\\.\\d{1,2})?$',
  description: 'A decimal such as 19.99',
});

export const ProductListQuery = Type.Object(
  {
    category_id: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Includes every descendant' }),
    ),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Full-text search' })),
    min_price: Type.Optional(PriceFilter),
    max_price: Type.Optional(PriceFilter),
    in_stock: Type.Optional(Type.Boolean()),
    sort: Type.Optional(
      Type.Union(
        Object.keys(SORTS).map((sort) => Type.Literal(sort)),
        { default: '-created_at' },
      ),
    ),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
