import { Type } from '@sinclair/typebox';
import { Money } from '../../platform/http/schemas.js';

const Quantity = Type.Integer({ minimum: 1, maximum: 999 });

export const CartItem = Type.Object({
  id: Type.Integer(),
  product_id: Type.Integer(),
  product: Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    price: Money,
    stock_quantity: Type.Integer(),
    available: Type.Boolean({
      description: 'false once the product is deleted: checkout will refuse the line',
    }),
  }),
  quantity: Type.Integer(),
  line_total: Money,
});

export const Cart = Type.Object({ id: Type.Integer(), items: Type.Array(CartItem), total: Money });

export const AddItem = Type.Object(
  { product_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), quantity: Quantity },
  { additionalProperties: false },
);

export const UpdateItem = Type.Object({ quantity: Quantity }, { additionalProperties: false });
