import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lsn } from './lsn.js';

/**
 * Who is reading, for the read router: set once per request by a platform hook, so services call
 * `db.reader.query(...)` and never branch on replicas or users. Outside a request (workers, CLI) there is no
 * context and reads are anonymous. Opened only when read replicas are configured (read-your-writes.ts): it is
 * the one AsyncLocalStorage Bazaar uses, and the async hooks it turns on cost every request.
 */
export interface ReadContext {
  /** The signed-in user, looked up lazily: authentication runs after the context is opened. */
  userId(): number | null;
  /** A request that writes reads everything from the primary, its own writes included. */
  writing: boolean;
  /** The user's write fence, fetched at most once per request. */
  fence?: Promise<Lsn | 'primary' | null>;
}

export const readContext = new AsyncLocalStorage<ReadContext>();
