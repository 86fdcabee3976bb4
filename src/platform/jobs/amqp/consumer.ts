import { once } from 'node:events';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';
import { setDeadLetterReader } from '../../observability/metrics.js';
import { recordJobRun } from '../job-metrics.js';
import { type JobContext, PermanentJobError } from '../registry.js';
import type { Broker } from './broker.js';
import { decodeEnvelope } from './envelope.js';
import { assertJobQueues, type JobQueues, queuesOf } from './topology.js';

/** Runs one job and resolves once its effect is committed; throwing asks for a retry. Must be idempotent. */
export type JobHandler = (payload: unknown, job: JobContext) => Promise<void>;

export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000] as const;

export interface ConsumerOptions {
  broker: Broker;
  prefix: string;
  handlers: ReadonlyMap<string, JobHandler>;
  logger: Logger;
  /** Unacknowledged messages per job type in this process: bounds memory and concurrency. */
  prefetch?: number;
  /** Delay before retry n (the last one repeats). */
  retryDelaysMs?: readonly number[];
  /** Runs of one job before it is dead-lettered; per type when a function. */
  maxAttempts?: number | ((type: string) => number);
}

export interface Consumer {
  /** Subscribes to every handled type; resolves once each has a live subscription. */
  start(): Promise<void>;
  /** Stops taking messages, waits for the jobs in flight to finish and ack, closes the channels. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Consumes the work queues with manual acks: a message is acked only after its handler resolved (its effect
 * committed). A failure is republished, with publisher confirms, to the retry queue of its attempt's delay
 * (or to the dead queue after `maxAttempts`) and only then acked, so a crash at any point redelivers the job
 * rather than losing it. Subscriptions come back by themselves after a dropped channel or connection.
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const { broker, prefix, handlers, logger } = options;
  const prefetch = options.prefetch ?? 20;
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const maxAttemptsOf = (type: string) => {
    const limit = options.maxAttempts ?? delays.length + 1;
    return typeof limit === 'number' ? limit : limit(type);
  };
  const live = new Map<string, { channel: ConfirmChannel; consumerTag: string }>();
  let stopped = false;
  let inFlight = 0;

  const delayBefore = (attempt: number) => delays[Math.min(attempt - 1, delays.length - 1)] as number;

  const republish = (channel: ConfirmChannel, queue: string, message: ConsumeMessage, headers: object) =>
    new Promise<void>((resolve, reject) => {
      const properties: Options.Publish = {
        persistent: true,
        messageId: message.properties.messageId,
        type: message.properties.type,
        contentType: message.properties.contentType,
        headers: { ...message.properties.headers, ...headers },
      };
      channel.sendToQueue(queue, message.content, properties, (error: unknown) =>
        error ? reject(error) : resolve(),
      );
    });

  async function handle(channel: ConfirmChannel, queues: JobQueues, type: string, message: ConsumeMessage) {
    inFlight += 1;
    const attempt = Number(message.properties.headers?.['x-attempts'] ?? 0) + 1;
    const job = decodeEnvelope(message.content);
    const startedAt = performance.now();
    try {
      try {
        const handler = handlers.get(type);
        if (job === null) throw new PermanentJobError('the message is not a job envelope');
        if (handler === undefined) throw new PermanentJobError(`no handler for job type ${type}`);
        await handler(job.payload, { id: job.id, attempt });
        recordJobRun(type, 'done', startedAt);
      } catch (error) {
        const permanent = error instanceof PermanentJobError;
        const dead = permanent || attempt >= maxAttemptsOf(type);
        const reason = error instanceof Error ? error.message : String(error);
        logger.warn({ job: job?.id, type, attempt, dead, err: error }, 'job failed');
        await republish(channel, dead ? queues.dead : queues.retry(delayBefore(attempt)), message, {
          'x-attempts': attempt,
          'x-last-error': reason.slice(0, 500),
        });
        recordJobRun(type, dead ? 'failed' : 'retried', startedAt);
      }
      channel.ack(message);
    } catch (error) {
      // The channel died under us: without the ack RabbitMQ redelivers the job to a live consumer.
      logger.warn({ job: job?.id, type, err: error }, 'job left unacknowledged for redelivery');
    } finally {
      inFlight -= 1;
    }
  }

  async function subscribe(type: string, subscribed: () => void) {
    const queues = queuesOf(prefix, type);
    while (!stopped) {
      try {
        const channel = await broker.confirmChannel();
        const closed = once(channel, 'close').catch(() => {});
        await assertJobQueues(channel, queues, delays);
        await channel.prefetch(prefetch);
        const { consumerTag } = await channel.consume(queues.work, (message) => {
          // null: the broker cancelled the subscription (queue deleted); close to subscribe again.
          if (message === null) void channel.close().catch(() => {});
          else void handle(channel, queues, type, message);
        });
        live.set(type, { channel, consumerTag });
        subscribed();
        await closed;
        live.delete(type);
      } catch (error) {
        if (!stopped) logger.warn({ type, err: error }, 'subscription failed; retrying');
      }
      if (!stopped) await sleep(500);
    }
  }

  // One channel of its own for the scrape-time reading, so a failed check never closes a subscription's.
  let reader: Promise<ConfirmChannel> | null = null;
  async function deadLetters(): Promise<number> {
    if (!broker.connected()) throw new Error('the broker is not connected');
    reader ??= broker.confirmChannel().then((channel) => {
      channel.once('close', () => {
        reader = null;
      });
      return channel;
    });
    try {
      const channel = await reader;
      let total = 0;
      for (const type of handlers.keys()) {
        total += (await channel.checkQueue(queuesOf(prefix, type).dead)).messageCount;
      }
      return total;
    } catch (error) {
      reader = null;
      throw error;
    }
  }

  return {
    async start() {
      setDeadLetterReader(deadLetters);
      await Promise.all(
        [...handlers.keys()].map(
          (type) =>
            new Promise<void>((resolve) => {
              void subscribe(type, resolve);
            }),
        ),
      );
    },
    async stop() {
      stopped = true;
      setDeadLetterReader(null);
      if (reader) await (await reader.catch(() => null))?.close().catch(() => {});
      await Promise.all(
        [...live.values()].map(({ channel, consumerTag }) => channel.cancel(consumerTag).catch(() => {})),
      );
      for (let waited = 0; inFlight > 0 && waited < 30_000; waited += 50) await sleep(50);
      await Promise.all([...live.values()].map(({ channel }) => channel.close().catch(() => {})));
    },
  };
}
