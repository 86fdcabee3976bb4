import { once } from 'node:events';
import type { ConfirmChannel, Message } from 'amqplib';
import type { Broker } from './broker.js';
import { encodeEnvelope, type JobEnvelope } from './envelope.js';
import { assertJobQueues, queuesOf } from './topology.js';

/**
 * Publishes jobs with publisher confirms: `publish` resolves only once RabbitMQ has written the message to its
 * quorum queue (persistent, mandatory). It rejects when the broker refuses it, cannot route it, does not answer
 * within `confirmTimeoutMs`, or the channel dies first; the caller keeps the job and tries again later.
 */
export interface Publisher {
  publish(job: JobEnvelope): Promise<void>;
  close(): Promise<void>;
}

export interface PublisherOptions {
  broker: Broker;
  prefix: string;
  confirmTimeoutMs?: number;
}

interface Link {
  channel: ConfirmChannel;
  /** Queue declarations per job type, shared by the publishes that wait for them. */
  declared: Map<string, Promise<void>>;
  returned: Set<string>;
  /** Set while the socket buffer is full: later publishes wait for 'drain' instead of piling up in memory. */
  full: Promise<void> | null;
  closed: Promise<unknown>;
}

export function createPublisher({ broker, prefix, confirmTimeoutMs = 15_000 }: PublisherOptions): Publisher {
  let link: Promise<Link> | null = null;

  const open = (): Promise<Link> => {
    const opening = broker.confirmChannel().then((channel) => {
      const current: Link = {
        channel,
        declared: new Map(),
        returned: new Set(),
        full: null,
        closed: once(channel, 'close').catch(() => {}),
      };
      channel.on('close', () => {
        if (link === opening) link = null;
      });
      // An unroutable mandatory message comes back before its confirm: remember it to fail that publish.
      channel.on('return', (message: Message) => current.returned.add(String(message.properties.messageId)));
      return current;
    });
    opening.catch(() => {
      if (link === opening) link = null;
    });
    link = opening;
    return opening;
  };

  const discard = async (broken: Link) => {
    if (link !== null && (await link.catch(() => null)) === broken) link = null;
    await broken.channel.close().catch(() => {});
  };

  return {
    async publish(job) {
      const current = await (link ?? open());
      let declared = current.declared.get(job.type);
      if (declared === undefined) {
        declared = assertJobQueues(current.channel, queuesOf(prefix, job.type), []);
        current.declared.set(job.type, declared);
      }
      await declared;
      if (current.full !== null) await current.full;
      const messageId = String(job.id);
      const confirmed = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no confirm for job ${job.id} within ${confirmTimeoutMs} ms`));
          void discard(current);
        }, confirmTimeoutMs);
        const written = current.channel.sendToQueue(
          queuesOf(prefix, job.type).work,
          encodeEnvelope(job),
          {
            persistent: true,
            mandatory: true,
            messageId,
            type: job.type,
            contentType: 'application/json',
            timestamp: Math.floor(Date.now() / 1000),
          },
          (error: unknown) => {
            clearTimeout(timer);
            if (error) reject(error instanceof Error ? error : new Error(`job ${job.id} was nacked`));
            else if (current.returned.delete(messageId)) reject(new Error(`job ${job.id} was unroutable`));
            else resolve();
          },
        );
        if (!written && current.full === null) {
          current.full = Promise.race([once(current.channel, 'drain'), current.closed]).then(
            () => {
              current.full = null;
            },
            () => {
              current.full = null;
            },
          );
        }
      });
      await confirmed;
    },
    async close() {
      const current = link === null ? null : await link.catch(() => null);
      link = null;
      await current?.channel.close().catch(() => {});
    },
  };
}
