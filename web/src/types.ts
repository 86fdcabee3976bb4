/** The shapes of the API's answers that the app reads (see /openapi.json). */

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Rating {
  average: number;
  count: number;
}

export interface Category {
  id: number;
  name: string;
  parent_id: number | null;
}

export interface ProductSummary {
  id: number;
  name: string;
  price: string;
  stock_quantity: number;
  category_id: number;
  rating: Rating;
  thumbnail_url: string | null;
}

export interface ProductImage {
  id: number;
  status: 'processing' | 'ready' | 'failed';
  url: string | null;
  thumbnail_url: string | null;
}

export interface Product {
  id: number;
  name: string;
  description: string;
  price: string;
  stock_quantity: number;
  category: { id: number; name: string };
  images: ProductImage[];
  rating: Rating;
}

export interface Review {
  id: number;
  rating: number;
  comment: string;
  created_at: string;
  user_id: number;
}

export interface CartItem {
  id: number;
  product_id: number;
  product: {
    id: number;
    name: string;
    price: string;
    stock_quantity: number;
    available: boolean;
  };
  quantity: number;
  line_total: string;
}

export interface Cart {
  id: number;
  items: CartItem[];
  total: string;
}

export interface Payment {
  id: number;
  status: 'pending' | 'succeeded' | 'failed' | 'refunded';
  amount: string;
  payment_method: string;
  failure_reason?: string | null;
}

export interface OrderItem {
  id?: number;
  product_id: number;
  product_name: string;
  quantity: number;
  price: string;
  line_total?: string;
}

export interface Order {
  id: number;
  user_id?: number;
  order_status: 'pending' | 'paid' | 'shipped' | 'delivered' | 'canceled';
  total_amount: string;
  items?: OrderItem[];
  payment?: Payment | null;
  created_at: string;
}

export interface WishlistItem {
  product_id: number;
  product?: ProductSummary;
}

export interface Stats {
  days: number;
  totals: { orders: number; revenue: string };
  sales_by_day: { day: string; orders: number; revenue: string }[];
  top_products: { product_id: number; name: string; quantity: number; revenue: string }[];
  low_stock: { id: number; name: string; stock_quantity: number }[];
}

/** Categories as a tree: children by parent id (null for the roots), each level sorted by name. */
export function childrenByParent(categories: Category[]): Map<number | null, Category[]> {
  const tree = new Map<number | null, Category[]>();
  for (const category of categories) {
    const siblings = tree.get(category.parent_id) ?? [];
    siblings.push(category);
    tree.set(category.parent_id, siblings);
  }
  for (const siblings of tree.values()) siblings.sort((a, b) => a.name.localeCompare(b.name));
  return tree;
}
