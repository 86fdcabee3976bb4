import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Background work (the in-process job runner) runs inside inBackground(): the PostgreSQL adapter then serves its
 * statements and transactions from a small pool of their own. Requests and jobs sharing one pool queue in one
 * line, first come first served: under a load that keeps the pool busy, a job's eight or so statements each
 * waited behind a hundred requests' statements, and payments were captured minutes late. With its own
 * connections the runner keeps pace whatever the request load; requests never wait for jobs either. PGlite has
 * one connection and ignores it.
 */
const background = new AsyncLocalStorage<true>();

export function inBackground<T>(work: () => Promise<T>): Promise<T> {
  return background.run(true, work);
}

export function isBackground(): boolean {
  return background.getStore() === true;
}
