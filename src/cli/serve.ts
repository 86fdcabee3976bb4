import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../app.js';
import { loadConfig, resolveJwtSecret } from '../config.js';
import { createUsersService } from '../modules/users/service.js';
import { serveClusterMetrics } from '../platform/observability/cluster.js';
import { collectWhenIdle } from '../platform/observability/idle-gc.js';
import { openRuntime, type Runtime } from './runtime.js';
import { seed } from './seed.js';
import { startJobTransport } from './worker.js';

const DEMO_PRODUCTS = 1_000;

/** The first start of an empty DATA_DIR: a demo catalog and a manager whose password is shown once. */
async function loadDemo({ db, logger }: Runtime) {
  const summary = await seed(db, { products: DEMO_PRODUCTS, users: 0, orders: 0 });
  const password = randomBytes(12).toString('base64url');
  const manager = await createUsersService({ db }).createUser({
    username: 'manager',
    email: 'manager@bazaar.localhost',
    password,
    first_name: 'Demo',
    last_name: 'Manager',
    role: 'manager',
  });
  logger.info({ products: summary.products, categories: summary.categories }, 'loaded the demo catalog');
  process.stdout.write(
    `\nDemo manager account (shown once): email ${manager.email}  password ${password}\n\n`,
  );
}

async function serveOne(): Promise<void> {
  const runtime = await openRuntime();
  const { config, db, logger } = runtime;
  if (runtime.freshEmbedded) await loadDemo(runtime);

  const app = await buildApp({ config, db, logger, jwtSecret: resolveJwtSecret(config) });
  app.addHook('onClose', async () => {
    await db.close();
  });
  // Background jobs: the in-process runner, or with AMQP_URL the relay to RabbitMQ (`bazaar worker` runs them),
  // started once the API listens and the signal handlers are in place, and stopped before the pools close.
  let stopJobs: (() => Promise<void>) | undefined;
  app.addHook('preClose', async () => {
    await stopJobs?.();
  });
  let stopCollecting = () => {};
  app.addHook('onClose', async () => stopCollecting());
  await app.listen({ port: config.port, host: config.host });
  logger.info(`Bazaar is serving at ${config.publicUrl} (API /api/, docs /docs)`);
  stopCollecting = collectWhenIdle(app.server, logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // After the signal handlers, so a stop that arrives meanwhile is still graceful (process.exit ends the loop).
  // The in-process runner waits (2 s at most) for Redis: a cache bump run before it connects would count as lost
  // in an outage and flush every instance's cache once it does. A stop that came meanwhile starts nothing.
  if (config.amqpUrl === null) await app.responseCache.ready(2_000);
  if (stopping) return;
  stopJobs = await startJobTransport(runtime, app.jobs);
  // A stop that came while the transport started found nothing to stop: stop it here.
  if (stopping) await stopJobs();
}

/**
 * Request connections the processes of `serve --instances N` share when DATABASE_POOL_SIZE is not set: 8 each
 * for two. Checkout on this 2-core machine (bench/checkout.ts, 100 buyers, two processes): 8 per process beat 20
 * in 4 of 5 alternated runs (medians 523 and 491 orders/s) and 10 in 3 of 3, with lower p50 and less CPU per
 * order in PostgreSQL: fewer backends to switch between on two cores. A single process keeps its 20.
 */
const CLUSTER_CONNECTIONS = 16;

/** N processes on one port with node:cluster; a worker that dies is replaced, unless the cluster is stopping. */
function serveCluster(instances: number): void {
  let stopping = false;
  const env =
    process.env.DATABASE_POOL_SIZE === undefined
      ? { DATABASE_POOL_SIZE: String(Math.max(4, Math.floor(CLUSTER_CONNECTIONS / instances))) }
      : {};
  const fork = () => cluster.fork(env);
  serveClusterMetrics();
  for (let i = 0; i < instances; i += 1) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    setTimeout(fork, 500);
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export async function serve(instances: number): Promise<void> {
  if (instances > 1 && cluster.isPrimary) {
    if (loadConfig().databaseUrl === null) {
      throw new Error('--instances above 1 needs DATABASE_URL: the embedded database belongs to one process');
    }
    serveCluster(instances);
    return;
  }
  await serveOne();
}
