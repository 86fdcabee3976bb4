import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { deleteJobQueues, queuesOf } from '../../src/platform/jobs/amqp/topology.js';

const run = promisify(execFile);

/** A queue prefix of this test run's own, so suites never see each other's messages on the shared broker. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Connects, retrying for a while: another suite may be restarting the shared broker right now. */
async function connectPatiently(url: string) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await connect(url);
    } catch (error) {
      if (attempt >= 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Deletes every queue of these job types under the prefix. */
export async function deleteQueues(
  url: string,
  prefix: string,
  types: string[],
  retryDelaysMs: readonly number[],
): Promise<void> {
  const connection = await connectPatiently(url);
  try {
    for (const type of types) {
      const channel = await connection.createChannel();
      await deleteJobQueues(channel, queuesOf(prefix, type), retryDelaysMs).catch(() => {});
      await channel.close().catch(() => {});
    }
  } finally {
    await connection.close();
  }
}

/** The messages waiting in a queue, taken off it (tests read the dead queue this way). */
export async function drainQueue(
  url: string,
  queue: string,
): Promise<{ body: unknown; headers: Record<string, unknown> }[]> {
  const connection = await connectPatiently(url);
  try {
    const channel = await connection.createChannel();
    const messages: { body: unknown; headers: Record<string, unknown> }[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      messages.push({
        body: JSON.parse(message.content.toString()),
        headers: (message.properties.headers ?? {}) as Record<string, unknown>,
      });
    }
    return messages;
  } finally {
    await connection.close();
  }
}

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', args, { timeout: 60_000 });
  return stdout;
}

/** Closes, on the broker side, every connection whose client named itself `name`. */
export async function closeConnectionsNamed(name: string): Promise<number> {
  const listed = await rabbitmqctl(
    'list_connections',
    'pid',
    'client_properties',
    '-q',
    '--no-table-headers',
  );
  const pids = listed
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0] as string);
  for (const pid of pids) await rabbitmqctl('close_connection', pid, 'test drops it');
  return pids.length;
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
