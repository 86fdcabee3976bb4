/**
 * The generations catalog responses depend on (see src/platform/cache/response-cache.ts):
 * - categories: the category list and details, and every product response (they show category names and
 *   filter by the category tree);
 * - products: every product list page (name, price, rating, thumbnail, deletion; stock counts excepted, which
 *   list pages show for at most LIST_TTL_MS instead, so checkouts do not flush every list);
 * - product:ID: one product's detail, stock included.
 */
export const CATALOG_DEPS = {
  categories: 'categories',
  productLists: 'products',
  product: (id: number) => `product:${id}`,
};

/** How long a list page may be served: the bound on stock counts in lists. */
export const LIST_TTL_MS = 1_000;
/** Details and categories are invalidated exactly; the TTL only reclaims memory from idle entries. */
export const DETAIL_TTL_MS = 10 * 60_000;
