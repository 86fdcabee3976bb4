import { useState } from 'preact/hooks';
import { type ApiError, api, get } from '../api';
import { type Category, childrenByParent, type Page } from '../types';
import { asApiError, ErrorNote, Loading, PageTitle, useLoad } from '../ui';

/** The category tree, with a rename, a delete and an "add below" on every node. */
export function CategoriesPage() {
  const categories = useLoad('manage-categories', () => get<Page<Category>>('/api/categories/'));
  const [error, setError] = useState<ApiError | null>(null);

  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      categories.reload();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  const add = (parentId: number | null) => {
    const name = window.prompt(
      parentId === null ? 'Name of the new top-level category' : 'Name of the new subcategory',
    );
    if (name?.trim())
      void run(() => api('POST', '/api/categories/', { body: { name: name.trim(), parent_id: parentId } }));
  };
  const rename = (category: Category) => {
    const name = window.prompt('New name', category.name);
    if (name?.trim() && name.trim() !== category.name)
      void run(() => api('PATCH', `/api/categories/${category.id}/`, { body: { name: name.trim() } }));
  };
  const remove = (category: Category) => {
    if (window.confirm(`Delete “${category.name}”? Only an empty category can go.`))
      void run(() => api('DELETE', `/api/categories/${category.id}/`));
  };

  const tree = childrenByParent(categories.data?.items ?? []);
  const level = (parent: number | null) => (
    <ul class="tree">
      {(tree.get(parent) ?? []).map((category) => (
        <li key={category.id}>
          <span class="tree-name">{category.name}</span>
          <span class="tree-actions">
            <button type="button" class="link" onClick={() => rename(category)}>
              Rename<span class="visually-hidden"> {category.name}</span>
            </button>
            <button type="button" class="link" onClick={() => add(category.id)}>
              Add below<span class="visually-hidden"> {category.name}</span>
            </button>
            <button type="button" class="link danger" onClick={() => remove(category)}>
              Delete<span class="visually-hidden"> {category.name}</span>
            </button>
          </span>
          {tree.has(category.id) && level(category.id)}
        </li>
      ))}
    </ul>
  );

  return (
    <section>
      <PageTitle title="Categories" />
      <button type="button" onClick={() => add(null)}>
        New top-level category
      </button>
      <ErrorNote error={categories.error ?? error} />
      {categories.loading && !categories.data && <Loading label="Loading categories" />}
      {categories.data && level(null)}
    </section>
  );
}
