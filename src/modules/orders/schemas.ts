import { Type } from '@sinclair/typebox';
import { IDEMPOTENCY_KEY_PATTERN } from '../../platform/http/idempotency.js';
import { Cursor, Limit, Money, Page, Timestamp } from '../../platform/http/schemas.js';

const OrderStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('paid'),
  Type.Literal('shipped'),
  Type.Literal('delivered'),
  Type.Literal('canceled'),
]);

const OrderItem = Type.Object({
  id: Type.Integer(),
  product_id: Type.Integer(),
  product_name: Type.String(),
  quantity: Type.Integer(),
  price: Money,
  line_total: Money,
});

const Payment = Type.Object({
  id: Type.Integer(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('refunded'),
  ]),
  amount: Money,
  payment_method: Type.Literal('card'),
});

const orderFields = {
  id: Type.Integer(),
  user_id: Type.Integer(),
  order_status: OrderStatus,
  total_amount: Money,
  items: Type.Array(OrderItem),
  created_at: Timestamp,
  updated_at: Timestamp,
};

export const Order = Type.Object({ ...orderFields, payment: Type.Union([Payment, Type.Null()]) });

/** In lists the payment is left out (GET /api/orders/{id}/ has it). */
export const OrderList = Page(Type.Object(orderFields));

export const CheckoutHeaders = Type.Object({
  'idempotency-key': Type.String({
    pattern: IDEMPOTENCY_KEY_PATTERN,
    description:
      'Required. 1..255 characters of A-Z a-z 0-9 _ . : -. The first answer for a key (per user) is stored ' +
      'for at least 24 hours and replayed with the same status and body (header Idempotent-Replayed: true); ' +
      'the same key with another body is a 409; a request arriving while the first with its key runs waits ' +
      'for it and replays its answer.',
  }),
});

export const Checkout = Type.Object(
  {
    payment_method: Type.Literal('card'),
    payment_token: Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[A-Za-z0-9_]+$',
      description:
        'Test provider: tok_visa (captured), tok_declined (declined), tok_flaky (two transient failures)',
    }),
  },
  { additionalProperties: false },
);

export const OrderListQuery = Type.Object(
  {
    status: Type.Optional(OrderStatus),
    user_id: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Managers only' }),
    ),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const StatusChange = Type.Object({ order_status: OrderStatus }, { additionalProperties: false });
