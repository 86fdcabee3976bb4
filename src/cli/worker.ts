import { ConfigError } from '../config.js';
import { createJobHandlers } from '../job-handlers.js';
import { openBroker } from '../platform/jobs/amqp/broker.js';
import { createConsumer } from '../platform/jobs/amqp/consumer.js';
import { replayDeadJobs } from '../platform/jobs/amqp/dead-letters.js';
import { createPublisher } from '../platform/jobs/amqp/publisher.js';
import { createOutboxRelay, type Relay } from '../platform/jobs/amqp/relay.js';
import { createMailer } from '../platform/mail/mailer.js';
import { openRuntime, type Runtime } from './runtime.js';

/**
 * `bazaar worker`: consumes the RabbitMQ job queues and runs the same handlers as the in-process runner.
 * Start as many as the load needs, on any host that reaches the database, the broker and the media storage.
 */
export async function worker(): Promise<void> {
  const { config, db, logger } = await openRuntime({ poolSize: 10 });
  if (config.amqpUrl === null) {
    await db.close();
    throw new ConfigError('AMQP_URL', 'is required by `bazaar worker` (without it `serve` runs the jobs)');
  }
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir });
  const handlers = createJobHandlers({ config, db, mailer });
  const broker = await openBroker({ url: config.amqpUrl, logger, name: `bazaar-worker-${process.pid}` });
  const consumer = createConsumer({
    broker,
    prefix: config.amqpQueuePrefix,
    handlers,
    logger,
    prefetch: config.workerPrefetch,
  });
  await consumer.start();
  logger.info({ types: [...handlers.keys()], prefetch: config.workerPrefetch }, 'worker is consuming jobs');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping: finishing the jobs in flight');
    await consumer.stop();
    await broker.close().catch(() => {});
    await mailer.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** With AMQP_URL, an API process relays its outbox rows to RabbitMQ; returns the function that stops it. */
export async function startOutboxRelay({ config, db, logger }: Runtime): Promise<() => Promise<void>> {
  if (config.amqpUrl === null) return async () => {};
  const broker = await openBroker({ url: config.amqpUrl, logger, name: `bazaar-relay-${process.pid}` });
  const publisher = createPublisher({ broker, prefix: config.amqpQueuePrefix });
  const relay: Relay = createOutboxRelay({ db, publisher, logger });
  await relay.start();
  return async () => {
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
    const mailer = createMailer({ smtpUrl: null, from: config.mailFrom, dataDir: config.dataDir });
    const types = options.type ? [options.type] : [...createJobHandlers({ config, db, mailer }).keys()];
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
