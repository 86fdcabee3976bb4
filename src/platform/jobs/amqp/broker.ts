import { type ConfirmChannel, connect, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { brokerConnected } from '../../observability/metrics.js';

/**
 * One AMQP connection that heals itself: after a broker restart or a dropped socket it reconnects with
 * exponential backoff (200 ms doubling to 5 s, with jitter), forever. Channels asked for while it is down wait
 * for the next connection; channels are not carried over, so their owners (publisher, consumer) open new ones.
 */
export interface Broker {
  /** A new confirm channel, waiting for the connection if the broker is unreachable right now. */
  confirmChannel(): Promise<ConfirmChannel>;
  /** Resolves once the first connection is up (rejects after `initialMaxRetries` failed attempts). */
  ready(): Promise<void>;
  /** Whether the connection is open right now (for /readyz). */
  connected(): boolean;
  close(): Promise<void>;
}

export interface BrokerOptions {
  url: string;
  logger: Logger;
  /** Name shown in the RabbitMQ connection list. */
  name: string;
  /** Failed attempts before the first connection counts as impossible (default: keep trying). */
  initialMaxRetries?: number;
}

export async function openBroker(options: BrokerOptions): Promise<Broker> {
  const { logger } = options;
  const model: RecoveringChannelModel = await connect(options.url, {
    clientProperties: { connection_name: options.name },
    // Dead peers (a killed broker host) are noticed by TCP keep-alive, broker restarts by the closed socket.
    keepAlive: true,
    keepAliveDelay: 10_000,
    recovery: {
      initialDelay: 200,
      maxDelay: 5_000,
      waitForConnect: false,
      ...(options.initialMaxRetries === undefined ? {} : { initialMaxRetries: options.initialMaxRetries }),
    },
  });
  // The gauge follows the last event: a process holds one broker connection (a worker's or a relay's).
  let open = false;
  const setOpen = (state: boolean) => {
    open = state;
    brokerConnected.set(state ? 1 : 0);
  };
  setOpen(false);
  model.on('error', (error: Error) => logger.warn({ err: error }, 'broker connection error'));
  model.on('disconnect', (error: Error) => {
    setOpen(false);
    logger.warn({ reason: error.message }, 'broker connection lost');
  });
  model.on('connect', () => {
    setOpen(true);
    logger.info({ connection: options.name }, 'connected to the broker');
  });
  model.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) =>
    logger.debug({ attempt, delay }, 'reconnecting to the broker'),
  );

  return {
    confirmChannel: async () => {
      const channel = await model.createConfirmChannel();
      // A channel closed by the broker (queue deleted, connection lost) emits 'error'; its owner reopens.
      channel.on('error', (error: Error) => logger.warn({ err: error }, 'broker channel error'));
      return channel;
    },
    ready: async () => {
      await model.waitForConnect();
    },
    connected: () => open,
    close: async () => {
      setOpen(false);
      await model.close();
    },
  };
}
