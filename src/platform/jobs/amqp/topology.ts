import type { Channel } from 'amqplib';

/**
 * The RabbitMQ layout of one job type, all durable quorum queues (replicated, crash-safe):
 *   <prefix>.<type>                 the work queue; a message redelivered more than DELIVERY_LIMIT times (its
 *                                   consumer keeps dying on it) is dead-lettered to the dead queue
 *   <prefix>.<type>.retry.<ms>      one per retry delay: no consumer, a message TTL of <ms>, dead-lettered
 *                                   back to the work queue when it expires
 *   <prefix>.<type>.dead            jobs that failed every attempt, kept for inspection and replay
 */

/** Redeliveries of one message (consumer crashed or channel lost before its ack) before it counts as poison. */
export const DELIVERY_LIMIT = 10;

export interface JobQueues {
  work: string;
  dead: string;
  retry(delayMs: number): string;
}

export function queuesOf(prefix: string, type: string): JobQueues {
  const work = `${prefix}.${type}`;
  return { work, dead: `${work}.dead`, retry: (delayMs) => `${work}.retry.${delayMs}` };
}

const QUORUM = { 'x-queue-type': 'quorum' };

/** Declares the queues of one job type; idempotent, so publishers and consumers both call it. */
export async function assertJobQueues(
  channel: Channel,
  queues: JobQueues,
  retryDelaysMs: readonly number[],
): Promise<void> {
  await channel.assertQueue(queues.dead, { durable: true, arguments: QUORUM });
  await channel.assertQueue(queues.work, {
    durable: true,
    arguments: {
      ...QUORUM,
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': queues.dead,
    },
  });
  for (const delay of new Set(retryDelaysMs)) {
    await channel.assertQueue(queues.retry(delay), {
      durable: true,
      arguments: {
        ...QUORUM,
        'x-message-ttl': delay,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queues.work,
        // Expired messages move to the work queue only once it has taken them: none is lost on the way.
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
  }
}

/** Removes every queue of a job type (tests clean up after themselves). */
export async function deleteJobQueues(
  channel: Channel,
  queues: JobQueues,
  retryDelaysMs: readonly number[],
): Promise<void> {
  for (const delay of new Set(retryDelaysMs)) await channel.deleteQueue(queues.retry(delay));
  await channel.deleteQueue(queues.work);
  await channel.deleteQueue(queues.dead);
}
