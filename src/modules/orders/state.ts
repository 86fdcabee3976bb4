import { AppError } from '../../platform/http/errors.js';

/**
 * The order life, in one place:
 *   pending -> paid (payment captured) -> shipped -> delivered (a manager moves it)
 *   pending | paid -> canceled (the owner; or a declined payment, for pending)
 * Every status change goes through assertTransition; anything else is a 409.
 */
export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'canceled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Who asks for a change: the owner, a manager, or the payment outcome. */
export type Actor = 'owner' | 'manager' | 'payment';

const TRANSITIONS: Record<OrderStatus, Partial<Record<OrderStatus, readonly Actor[]>>> = {
  pending: { paid: ['payment'], canceled: ['owner', 'payment'] },
  paid: { shipped: ['manager'], canceled: ['owner'] },
  shipped: { delivered: ['manager'] },
  delivered: {},
  canceled: {},
};

export function canTransition(from: OrderStatus, to: OrderStatus, actor: Actor): boolean {
  return TRANSITIONS[from][to]?.includes(actor) ?? false;
}

export function assertTransition(from: OrderStatus, to: OrderStatus, actor: Actor): void {
  if (!canTransition(from, to, actor)) {
    throw new AppError('invalid_transition', `An order that is ${from} cannot become ${to} this way`);
  }
}
