import type { Broker } from './broker.js';
import { assertJobQueues, queuesOf } from './topology.js';

/** Headers that describe past failures: a replayed job starts again with all its attempts. */
const FAILURE_HEADERS = [
  'x-attempts',
  'x-last-error',
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
];

/**
 * Moves up to `limit` messages per type from the dead queue back to the work queue, each republished with
 * confirms before it is acked off the dead queue (a crash in between duplicates a job, never loses one).
 * Returns how many were replayed per type.
 */
export async function replayDeadJobs(options: {
  broker: Broker;
  prefix: string;
  types: readonly string[];
  limit?: number;
}): Promise<Map<string, number>> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const channel = await options.broker.confirmChannel();
  const replayed = new Map<string, number>();
  try {
    for (const type of options.types) {
      const queues = queuesOf(options.prefix, type);
      await assertJobQueues(channel, queues, []);
      let count = 0;
      while (count < limit) {
        const message = await channel.get(queues.dead, { noAck: false });
        if (message === false) break;
        const headers = { ...message.properties.headers };
        for (const name of FAILURE_HEADERS) delete headers[name];
        await new Promise<void>((resolve, reject) =>
          channel.sendToQueue(
            queues.work,
            message.content,
            {
              persistent: true,
              messageId: message.properties.messageId,
              type: message.properties.type,
              contentType: message.properties.contentType,
              headers,
            },
            (error: unknown) => (error ? reject(error) : resolve()),
          ),
        );
        channel.ack(message);
        count += 1;
      }
      replayed.set(type, count);
    }
  } finally {
    await channel.close().catch(() => {});
  }
  return replayed;
}
