import { useEffect, useState } from 'preact/hooks';
import { api, get, user } from '../api';
import type { Cart } from '../types';

/** The signed-in shopper's cart, shared by the header badge and the pages that change it. */

let cart: Cart | null = null;
const listeners = new Set<(cart: Cart | null) => void>();

function publish(next: Cart | null) {
  cart = next;
  for (const listener of listeners) listener(cart);
}

export async function refreshCart(): Promise<Cart | null> {
  if (!user()) {
    publish(null);
    return null;
  }
  publish(await get<Cart>('/api/cart/'));
  return cart;
}

export async function addToCart(productId: number, quantity: number): Promise<void> {
  await api('POST', '/api/cart/items/', { body: { product_id: productId, quantity } });
  await refreshCart();
}

export async function setQuantity(itemId: number, quantity: number): Promise<void> {
  await api('PATCH', `/api/cart/items/${itemId}/`, { body: { quantity } });
  await refreshCart();
}

export async function removeItem(itemId: number): Promise<void> {
  await api('DELETE', `/api/cart/items/${itemId}/`);
  await refreshCart();
}

export function useCart(): Cart | null {
  const [value, setValue] = useState(cart);
  useEffect(() => {
    listeners.add(setValue);
    return () => listeners.delete(setValue);
  }, []);
  return value;
}

export function itemCount(value: Cart | null): number {
  return value ? value.items.reduce((sum, item) => sum + item.quantity, 0) : 0;
}
