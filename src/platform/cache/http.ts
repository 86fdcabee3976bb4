import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CachedResponse } from './response-cache.js';

/**
 * Sends cached JSON bytes as they are (a Buffer bypasses the route's serializer), with a strong ETag and a
 * 304 for a matching If-None-Match. Anonymous reads may be kept by shared caches for a few seconds; a request
 * carrying credentials is answered `private, no-cache`, so nothing personal is ever marked public.
 */

export const PUBLIC_MAX_AGE_SECONDS = 5;
export const PUBLIC_CACHE_CONTROL = `public, max-age=${PUBLIC_MAX_AGE_SECONDS}`;
const PRIVATE = 'private, no-cache';

export function ifNoneMatchHits(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  // If-None-Match uses the weak comparison: W/"x" matches "x".
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

export function sendCachedJson(request: FastifyRequest, reply: FastifyReply, entry: CachedResponse) {
  reply.header('etag', entry.etag);
  reply.header('cache-control', request.headers.authorization === undefined ? PUBLIC_CACHE_CONTROL : PRIVATE);
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined && ifNoneMatchHits(ifNoneMatch, entry.etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(entry.body);
}
