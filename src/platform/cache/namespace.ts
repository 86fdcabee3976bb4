import type { Queryable } from '../db/index.js';

/** This database's cache namespace (migration 060): the prefix of every Redis key its processes share. */
export async function cacheNamespace(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ namespace: string }>('SELECT namespace FROM cache_namespace');
  if (!rows[0]) throw new Error('cache_namespace is empty: the database was not migrated');
  return rows[0].namespace;
}
