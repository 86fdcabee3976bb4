import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Where `npm run build` puts the web app (the same path from src/ under tsx and from dist/). */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * The client routes of the storefront and the manager: a browser that opens or reloads one of them gets the
 * app's index.html, and the app's router draws the page. Everything else (the API above all) keeps its own
 * 404 in problem+json, so a mistyped API path is never answered with a web page.
 */
export const CLIENT_ROUTES = [
  '/',
  '/products/:id',
  '/cart',
  '/checkout',
  '/orders',
  '/orders/:id',
  '/wishlist',
  '/login',
  '/register',
  '/password-reset',
  // The link in the password reset mail.
  '/reset-password',
  '/manage',
  '/manage/*',
];

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the web app built in web/dist: hashed assets under /assets/ cached for a year (their names change
 * with their content), index.html revalidated on every load so a deploy shows at once. Without a build, the
 * API runs alone and says so in the log.
 */
export const webPlugin = fp(
  async (app: FastifyInstance, options: { root?: string } = {}) => {
    const root = options.root ?? WEB_DIST;
    const indexFile = `${root}/index.html`;
    if (!existsSync(indexFile)) {
      app.log.warn({ root }, 'the web app is not built (npm run build): serving the API only');
      return;
    }
    const indexHtml = readFileSync(indexFile);

    await app.register(fastifyStatic, {
      root: `${root}/assets`,
      prefix: '/assets/',
      // Brotli or gzip twins written by the build, chosen by Accept-Encoding.
      preCompressed: true,
      cacheControl: false,
      setHeaders: (reply) => {
        reply.header('cache-control', IMMUTABLE);
      },
      index: false,
      schemaHide: true,
      logLevel: 'warn',
    });

    for (const url of CLIENT_ROUTES) {
      app.get(url, { schema: { hide: true } }, (_request, reply) =>
        reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(indexHtml),
      );
    }
  },
  { name: 'web' },
);
