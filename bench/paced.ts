import net from 'node:net';
import { answerLength } from './http-connection.js';

/**
 * A steady, open-loop load: `rate` GETs of one URL per second, what "p99 at 80% of the peak rate" asks for.
 * autocannon's overallRate is not that: it gives each connection a budget of requests per second, which the
 * connection spends back to back from the start of every second, so an "80%" run is full speed for 0.8 s and
 * then nothing, and its p99 is the saturated one (plus a coordinated-omission correction computed with an
 * interval of 1 ms, which adds a sample for every millisecond of every response).
 *
 * Here a timer ticks every millisecond; at each tick the requests due by then join a queue, and every idle
 * keep-alive connection takes the next one. A request's latency runs from the tick that queued it to the end
 * of its answer, so a request that waited for a connection because the server fell behind counts that wait
 * (no coordinated omission), while the timer's own lateness, the load generator's, does not (nor, on two
 * shared cores, a stall of the generator caused by the server: the bare ceiling measured the same way, beside
 * the API, shows what such stalls cost). Requests still unanswered 2 s after the last is due count as errors,
 * not in the percentiles. Answers are read by Content-Length (what Bazaar's catalog answers carry; a 304
 * carries no body and counts as non-2xx); anything else counts as an error.
 */

export interface PacedResult {
  /** Answers per second over the measured seconds. */
  rps: number;
  p50: number;
  p99: number;
  /** Socket errors, unreadable answers and requests unanswered at the end. */
  errors: number;
  non2xx: number;
  statuses: Record<string, number>;
}

interface Connection {
  socket: net.Socket;
  busy: boolean;
  /** When the request in flight was queued (ms, performance.now()). */
  queuedAt: number;
  pending: Buffer;
}

/** The p-th percentile of sorted values (0 when there are none). */
export const percentile = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number);

export async function pacedLoad(options: {
  url: string;
  rate: number;
  seconds: number;
  connections?: number;
}): Promise<PacedResult> {
  const target = new URL(options.url);
  const request = Buffer.from(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n\r\n`,
  );
  const connections = options.connections ?? 100;
  const latencies = new Float64Array(Math.ceil(options.rate * options.seconds * 1.2) + 1000);
  let recorded = 0;
  let non2xx = 0;
  const statuses: Record<string, number> = {};
  const queue: number[] = [];
  let queueHead = 0;
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  let started = 0;
  let measuring = false;

  const dispatch = () => {
    while (queueHead < queue.length && idle.length > 0) {
      const connection = idle.pop() as Connection;
      connection.busy = true;
      connection.queuedAt = queue[queueHead] as number;
      queueHead += 1;
      connection.socket.write(request);
    }
    if (queueHead > 4096 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
  };

  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(Number(target.port || 80), target.hostname);
      socket.setNoDelay(true);
      const connection: Connection = { socket, busy: false, queuedAt: 0, pending: Buffer.alloc(0) };
      all.add(connection);
      socket.once('connect', () => {
        idle.push(connection);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => {
        connection.pending =
          connection.pending.length === 0 ? chunk : Buffer.concat([connection.pending, chunk]);
        let answer: { status: number; length: number } | undefined;
        try {
          answer = answerLength(connection.pending);
        } catch {
          socket.destroy(); // counted with the unanswered requests at the end
          return;
        }
        if (answer === undefined || connection.pending.length < answer.length) return;
        connection.pending = connection.pending.subarray(answer.length);
        const finished = performance.now();
        if (measuring) {
          if (recorded < latencies.length) latencies[recorded] = finished - connection.queuedAt;
          recorded += 1;
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
          if (answer.status < 200 || answer.status >= 300) non2xx += 1;
        }
        connection.busy = false;
        idle.push(connection);
        dispatch();
      });
      socket.on('error', (error) => {
        if (!connection.busy && !idle.includes(connection)) reject(error);
      });
      socket.on('close', () => {
        all.delete(connection);
        const at = idle.indexOf(connection);
        if (at >= 0) idle.splice(at, 1);
        connection.busy = false;
        // A lost connection is replaced, so the load keeps its shape.
        if (measuring) open().catch(() => {});
      });
    });

  await Promise.all(Array.from({ length: connections }, open));
  started = performance.now();
  measuring = true;
  const total = Math.round(options.rate * options.seconds);
  let queued = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - started) * options.rate) / 1000));
      for (; queued < due; queued += 1) queue.push(now);
      dispatch();
      if (queued >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  // The answers still on their way, then every request not answered counts as an error.
  const deadline = performance.now() + 2000;
  while (performance.now() < deadline && (queueHead < queue.length || idle.length < all.size))
    await new Promise((resolve) => setTimeout(resolve, 10));
  measuring = false;
  for (const connection of [...all]) connection.socket.destroy();
  // Every request sent and not answered with a readable answer: lost connections, unreadable answers, timeouts.
  const errors = Math.max(0, total - recorded);
  const sorted = latencies.subarray(0, Math.min(recorded, latencies.length)).sort();
  return {
    rps: recorded / options.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
    non2xx,
    statuses,
  };
}
