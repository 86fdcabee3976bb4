import type { Logger } from 'pino';
import { buildApp } from '../app.js';
import { ConfigError, resolveJwtSecret } from '../config.js';
import { openBroker } from '../platform/jobs/amqp/broker.js';
import { createConsumer, type JobHandler } from '../platform/jobs/amqp/consumer.js';
import { replayDeadJobs } from '../platform/jobs/amqp/dead-letters.js';
import { createPublisher } from '../platform/jobs/amqp/publisher.js';
import { createOutboxRelay } from '../platform/jobs/amqp/relay.js';
import type { JobRegistry } from '../platform/jobs/registry.js';
import { startJobRunner } from '../platform/jobs/runner.js';
import { startMetricsServer } from '../platform/observability/metrics-server.js';
import { openRuntime, type Runtime } from './runtime.js';

/** The registry's handlers as the RabbitMQ consumer wants them, with each type's attempt limit. */
export function consumerHandlers(registry: JobRegistry) {
  const handlers = new Map<string, JobHandler>();
  for (const type of registry.types()) {
    const definition = registry.definition(type);
    if (definition) handlers.set(type, (payload, job) => definition.run(payload, job));
  }
  const maxAttempts = (type: string) => registry.definition(type)?.maxAttempts ?? 1;
  return { handlers, maxAttempts };
}

/**
 * `bazaar worker`: consumes the RabbitMQ job queues and runs the handlers the app registers, the very ones the
 * in-process runner runs. Start as many as the load needs, on any host that reaches the database, the broker,
 * SMTP and the media storage.
 */
export async function worker(): Promise<void> {
  const runtime = await openRuntime({ poolSize: 10 });
  const { config, db, logger } = runtime;
  if (config.amqpUrl === null) {
    await db.close();
    throw new ConfigError('AMQP_URL', 'is required by `bazaar worker` (without it `serve` runs the jobs)');
  }
  // The app is built, never listened on: it is where every module registers its job handlers.
  const app = await buildApp({ config, db, logger, jwtSecret: resolveJwtSecret(config) });
  const { handlers, maxAttempts } = consumerHandlers(app.jobs);
  const broker = await openBroker({ url: config.amqpUrl, logger, name: `bazaar-worker-${process.pid}` });
  // Up before the consumer, so the liveness probe answers while the subscriptions wait for the broker.
  const metrics = await startMetricsServer(config.metricsPort, config.host, {
    database: async () => {
      await db.query('SELECT 1');
    },
    broker: async () => {
      if (!broker.connected()) throw new Error('not connected');
    },
  });
  logger.info({ port: metrics.port }, 'worker metrics and probes listening');
  const consumer = createConsumer({
    broker,
    prefix: config.amqpQueuePrefix,
    handlers,
    maxAttempts,
    logger,
    prefetch: config.workerPrefetch,
  });
  // As serve does: a cache bump run before Redis connects would count as lost and flush every cache later.
  await app.responseCache.ready(2_000);
  await consumer.start();
  logger.info({ types: [...handlers.keys()], prefetch: config.workerPrefetch }, 'worker is consuming jobs');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping: finishing the jobs in flight');
    await consumer.stop();
    await metrics.close();
    await broker.close().catch(() => {});
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function startPeriodicTasks(registry: JobRegistry, logger: Logger): () => void {
  const timers = registry.periodicTasks().map((task) =>
    setInterval(() => {
      task.run().catch((error) => logger.error({ err: error, task: task.name }, 'periodic task failed'));
    }, task.everyMs).unref(),
  );
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}

/**
 * The job transport of an API process. Without AMQP_URL, the in-process runner claims and runs the jobs. With
 * it, the process relays its outbox rows to RabbitMQ for `bazaar worker` processes and keeps only the periodic
 * housekeeping. Returns the function that stops it.
 */
export async function startJobTransport(
  { config, db, logger }: Runtime,
  registry: JobRegistry,
): Promise<() => Promise<void>> {
  const log = logger.child({ component: 'jobs' });
  if (config.amqpUrl === null) {
    const runner = await startJobRunner({ db, registry, logger: log });
    return () => runner.stop();
  }
  const broker = await openBroker({ url: config.amqpUrl, logger: log, name: `bazaar-relay-${process.pid}` });
  const publisher = createPublisher({ broker, prefix: config.amqpQueuePrefix });
  const relay = createOutboxRelay({ db, publisher, logger: log });
  await relay.start();
  const stopPeriodic = startPeriodicTasks(registry, log);
  return async () => {
    stopPeriodic();
    await relay.stop();
    await publisher.close();
    await broker.close().catch(() => {});
  };
}

/** `bazaar jobs:replay-dead`: puts dead-lettered jobs back on their work queues, for after a fix. */
export async function replayDead(options: { type?: string; limit?: number }): Promise<Map<string, number>> {
  const { config, db, logger } = await openRuntime({ poolSize: 1 });
  try {
    if (config.amqpUrl === null) {
      throw new ConfigError(
        'AMQP_URL',
        'is required by `bazaar jobs:replay-dead` (dead letters live in RabbitMQ)',
      );
    }
    const app = await buildApp({ config, db, logger, jwtSecret: resolveJwtSecret(config) });
    const types = options.type ? [options.type] : app.jobs.types();
    await app.close();
    const broker = await openBroker({
      url: config.amqpUrl,
      logger,
      name: 'bazaar-replay',
      initialMaxRetries: 3,
    });
    try {
      return await replayDeadJobs({ broker, prefix: config.amqpQueuePrefix, types, limit: options.limit });
    } finally {
      await broker.close().catch(() => {});
    }
  } finally {
    await db.close();
  }
}
