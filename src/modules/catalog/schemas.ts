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
        {
          description:
            'Without sort: newest first (-created_at), or, when q is given, best match first (full-text ' +
            'rank, ties by id); the cursor of a ranked search carries the rank, so its pages are a stable keyset',
        },
      ),
    ),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

const CategoryName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const ParentId = Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()], {
  description: 'The parent category; null makes a root',
});

export const CategoryCreate = Type.Object(
  { name: CategoryName, parent_id: Type.Optional(ParentId) },
  { additionalProperties: false },
);

export const CategoryUpdate = Type.Object(
  { name: Type.Optional(CategoryName), parent_id: Type.Optional(ParentId) },
  { additionalProperties: false, minProperties: 1 },
);

const Price = Type.String({
  pattern: '^(?=.*[1-9])\\d{1,10}(\\.\\d{1,2})?$',
  examples: ['19.99'],
  description:
    'Greater than zero, at most two decimals, as a decimal string ("19.99"). JSON numbers are refused: ' +
    'a price never passes through binary floating point',
});

const ProductFields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  description: Type.String({ maxLength: 10_000 }),
  price: Price,
  stock_quantity: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }),
  category_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'An existing category' }),
};

export const ProductCreate = Type.Object(
  { ...ProductFields, description: Type.Optional(ProductFields.description) },
  { additionalProperties: false },
);

export const ProductUpdate = Type.Partial(Type.Object(ProductFields), {
  additionalProperties: false,
  minProperties: 1,
});
