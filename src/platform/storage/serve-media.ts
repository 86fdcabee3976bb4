import { mkdirSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { MEDIA_PREFIX } from './media.js';

/**
 * Serves DATA_DIR/media under /media/. Every stored name is unique (a UUID for originals, the image id for
 * thumbnails) and never rewritten with other content, so browsers and CDNs may keep a file for a year.
 */
export async function mediaRoutes(app: FastifyInstance, { root }: { root: string }) {
  mkdirSync(root, { recursive: true });
  await app.register(fastifyStatic, {
    root,
    prefix: MEDIA_PREFIX,
    decorateReply: false,
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: '365d',
    immutable: true,
  });
}
