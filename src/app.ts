import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { registerAuthJobs, resetKeyOf } from './modules/auth/jobs.js';
import { authRoutes } from './modules/auth/routes.js';
import { createAuthService } from './modules/auth/service.js';
import { cartRoutes } from './modules/cart/routes.js';
import { createCartService } from './modules/cart/service.js';
import { createCachedCatalog } from './modules/catalog/cached.js';
import { catalogRoutes } from './modules/catalog/routes.js';
import { createCatalogService } from './modules/catalog/service.js';
import { imageRoutes } from './modules/images/routes.js';
import { createImagesService, registerImageJobs } from './modules/images/service.js';
import { registerOrderJobs } from './modules/orders/jobs.js';
import { orderRoutes } from './modules/orders/routes.js';
import { createOrdersService } from './modules/orders/service.js';
import { createPaymentsService } from './modules/payments/service.js';
import { createTestPaymentProvider } from './modules/payments/test-provider.js';
import { reportsRoutes } from './modules/reports/routes.js';
import { createReportsService } from './modules/reports/service.js';
import { reviewRoutes } from './modules/reviews/routes.js';
import { createReviewsService } from './modules/reviews/service.js';
import { usersRoutes } from './modules/users/routes.js';
import { createUsersService } from './modules/users/service.js';
import { wishlistRoutes } from './modules/wishlist/routes.js';
import { createWishlistService } from './modules/wishlist/service.js';
import { registerCacheJobs } from './platform/cache/invalidation-job.js';
import { cacheNamespace } from './platform/cache/namespace.js';
import { closeRedis, connectRedis, createRedis } from './platform/cache/redis.js';
import { createResponseCache } from './platform/cache/response-cache.js';
import { type Database, observeDatabase } from './platform/db/index.js';
import { authPlugin, createAccessTokens } from './platform/http/auth.js';
import { createFrontDoor } from './platform/http/front-door.js';
import { healthPlugin } from './platform/http/health.js';
import { purgeIdempotencyKeys } from './platform/http/idempotency.js';
import { createRateLimits } from './platform/http/rate-limits.js';
import { readYourWritesPlugin } from './platform/http/read-your-writes.js';
import { securityHeadersFor, securityPlugin } from './platform/http/security.js';
import { createHttpServer, type HttpServer } from './platform/http/server.js';
import { installDrain } from './platform/http/shutdown.js';
import { webPlugin } from './platform/http/web.js';
import { purgeFinishedJobs } from './platform/jobs/outbox.js';
import { createJobRegistry } from './platform/jobs/registry.js';
import { jobAdminRoutes } from './platform/jobs/routes.js';
import { registerMailJob } from './platform/mail/mail-job.js';
import { createMailer } from './platform/mail/mailer.js';
import { metricsPlugin } from './platform/observability/http-metrics.js';
import { databaseObserver } from './platform/observability/metrics.js';
import { mediaRoutes } from './platform/storage/serve-media.js';

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
export async function buildApp({ config, db: rawDb, logger, jwtSecret }: AppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
    logger,
    publicUrl: config.publicUrl,
    version: VERSION,
    trustProxy: config.trustProxy,
  });
  installDrain(app);
  // Every statement of every module is timed for /metrics.
  const db = observeDatabase(rawDb, databaseObserver);
  await app.register(metricsPlugin, { db });

  const redis = config.redisUrl === null ? null : createRedis(config.redisUrl, 'app', logger);
  if (redis !== null && !(await connectRedis(redis))) {
    logger.warn('Redis is unreachable: shared rate limits count per process until it answers');
  }
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir });
  app.addHook('onClose', async () => {
    await mailer.close();
    if (redis !== null) await closeRedis(redis);
  });

  const limits = createRateLimits({ factor: config.rateLimitFactor, redis, prefix: config.redisKeyPrefix });
  const securityHeaders = securityHeadersFor(config.corsOrigins);
  await app.register(securityPlugin, { corsOrigins: config.corsOrigins, limits, headers: securityHeaders });
  const tokens = createAccessTokens(jwtSecret);
  await app.register(authPlugin, { tokens });
  await app.register(readYourWritesPlugin, { db });
  await app.register(healthPlugin, {
    checks: {
      database: async () => {
        await db.query('SELECT 1');
      },
    },
  });

  // Job handlers live here, apart from the transport that runs them (serve starts the in-process runner). What
  // they call is built on jobDb, the database's background pool, so jobs and requests never queue in one line.
  const jobs = createJobRegistry();
  const jobDb = db.background;
  app.decorate('jobs', jobs);
  jobs.every('purge idempotency keys', 60 * 60_000, () => purgeIdempotencyKeys(jobDb).then(() => {}));
  jobs.every('purge finished jobs', 60 * 60_000, () => purgeFinishedJobs(jobDb).then(() => {}));

  const cache = createResponseCache({ redisUrl: config.redisUrl, namespace: await cacheNamespace(db) });
  app.decorate('responseCache', cache);
  app.addHook('onClose', () => cache.close());
  const catalog = createCatalogService({ db, cache });
  // Anonymous GETs of cached catalog answers are served before Fastify sees them (front-door.ts).
  const frontDoor = createFrontDoor({
    cache,
    limits,
    logger,
    securityHeaders: securityHeaders.api,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
  });
  app.installFrontDoor(frontDoor.handle);
  app.decorate('frontDoor', frontDoor);
  const cached = createCachedCatalog({ catalog, cache, frontDoor });
  const users = createUsersService({ db });
  const resetKey = resetKeyOf(jwtSecret);
  const auth = createAuthService({
    db,
    users,
    tokens,
    resetKey,
    loginFailures: {
      perAccount: limits.failures('loginFailuresPerAccount'),
      perAddress: limits.failures('loginFailuresPerAddress'),
    },
  });
  const cart = createCartService({ db });
  const provider = createTestPaymentProvider();
  const payments = createPaymentsService({ db, provider });
  const stockChanged = (ids: readonly number[]) => catalog.invalidateStock(ids);
  const orders = createOrdersService({ db, cart, payments, stockChanged });
  const jobPayments = createPaymentsService({ db: jobDb, provider });
  const jobUsers = createUsersService({ db: jobDb });
  jobPayments.registerJobs(jobs);
  registerOrderJobs(jobs, {
    db: jobDb,
    payments: jobPayments,
    users: jobUsers,
    mailer,
    stockChanged,
  });
  const mediaDir = path.join(config.dataDir, 'media');
  const images = createImagesService({ db, catalog, mediaDir });
  registerImageJobs(jobs, createImagesService({ db: jobDb, catalog, mediaDir }));
  registerMailJob(jobs, { db: jobDb, mailer });
  registerCacheJobs(jobs, cache);
  registerAuthJobs(jobs, {
    db: jobDb,
    users: jobUsers,
    mailer,
    publicUrl: config.publicUrl,
    resetKey,
  });

  await app.register(mediaRoutes, { root: mediaDir });
  await app.register(catalogRoutes, { catalog, cached });
  await app.register(reviewRoutes, { reviews: createReviewsService({ db, catalog }) });
  await app.register(wishlistRoutes, { wishlist: createWishlistService({ db, catalog }) });
  await app.register(authRoutes, {
    auth,
    limits: { register: limits.route('register'), passwordReset: limits.route('passwordReset') },
  });
  await app.register(usersRoutes, { users });
  await app.register(cartRoutes, { cart });
  await app.register(orderRoutes, { orders });
  await app.register(jobAdminRoutes, { db });
  await app.register(imageRoutes, { images });
  await app.register(reportsRoutes, { reports: createReportsService({ db }) });
  await app.register(webPlugin);
  return app;
}
