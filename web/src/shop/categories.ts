import { get } from '../api';
import type { Category, Page } from '../types';

let all: Promise<Category[]> | null = null;

/** Every category, fetched once per page load (the list is small and changes rarely). */
export function loadCategories(): Promise<Category[]> {
  all ??= get<Page<Category>>('/api/categories/').then(
    (page) => page.items,
    (error) => {
      all = null;
      throw error;
    },
  );
  return all;
}

/** The ids from the root down to `id`. */
export function pathTo(categories: Category[], id: number | null): number[] {
  const byId = new Map(categories.map((category) => [category.id, category]));
  const path: number[] = [];
  let cursor = id === null ? undefined : byId.get(id);
  while (cursor && path.length < 50) {
    path.unshift(cursor.id);
    cursor = cursor.parent_id === null ? undefined : byId.get(cursor.parent_id);
  }
  return path;
}
