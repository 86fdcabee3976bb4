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

/** A category changed, or the whole catalog (an import): every catalog answer. */
export const catalogDeps = () => [CATALOG_DEPS.categories];
/** A product changed in what lists show (name, price, rating, images, deletion): its detail and every list. */
export const productDeps = (ids: readonly number[]) => [
  CATALOG_DEPS.productLists,
  ...ids.map(CATALOG_DEPS.product),
];
/** Stock moved: the products' details; list pages catch up within LIST_TTL_MS. */
export const stockDeps = (ids: readonly number[]) => ids.map(CATALOG_DEPS.product);

/** How long a list page may be served: the bound on stock counts in lists. */
export const LIST_TTL_MS = 1_000;
/** Details and categories are invalidated exactly; the TTL only reclaims memory from idle entries. */
export const DETAIL_TTL_MS = 10 * 60_000;
