import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { catalogRoutes } from './modules/catalog/routes.js';
import { createCatalogService } from './modules/catalog/service.js';
import { reportsRoutes } from './modules/reports/routes.js';
import { createReportsService } from './modules/reports/service.js';
import { reviewRoutes } from './modules/reviews/routes.js';
import { createReviewsService } from './modules/reviews/service.js';
import { wishlistRoutes } from './modules/wishlist/routes.js';
import { createWishlistService } from './modules/wishlist/service.js';
import type { Database } from './platform/db/index.js';
import { authPlugin, createAccessTokens } from './platform/http/auth.js';
import { healthPlugin } from './platform/http/health.js';
import { createHttpServer, type HttpServer } from './platform/http/server.js';
import { installDrain } from './platform/http/shutdown.js';
import { webPlugin } from './platform/http/web.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  jwtSecret: string;
}

/** The composition root: platform pieces first, then each module with the services it may call. */
export async function buildApp({ config, db, logger, jwtSecret }: AppDeps): Promise<HttpServer> {
  const app = await createHttpServer({ logger, publicUrl: config.publicUrl, version: VERSION });
  installDrain(app);

  const tokens = createAccessTokens(jwtSecret);
  await app.register(authPlugin, { tokens });
  await app.register(healthPlugin, {
    checks: {
      database: async () => {
        await db.query('SELECT 1');
      },
    },
  });

  const catalog = createCatalogService({ db });

  await app.register(catalogRoutes, { catalog });
  await app.register(reviewRoutes, { reviews: createReviewsService({ db, catalog }) });
  await app.register(wishlistRoutes, { wishlist: createWishlistService({ db, catalog }) });
  await app.register(reportsRoutes, { reports: createReportsService({ db }) });
  await app.register(webPlugin);
  return app;
}
