import net from 'node:net';

/**
 * The load generators' HTTP/1.1 client: one keep-alive socket, one request at a time, request bytes written by
 * hand and answers read only as far as status and length. The generators share the machine's two cores with
 * the server and PostgreSQL, so every cycle they spend is taken from what is measured: node:http's client
 * (an Agent, header objects, a parser, streams) cost the checkout bench 0.58 to 1.23 ms of CPU per order, about
 * 23% of the server's; this client 0.30 to 0.88 ms, about 15%.
 */

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Status and total length of the answer at the start of buffer, once its head has arrived. Answers carry a
 * Content-Length (Bazaar and the ceiling server send one), except those that never have a body (204, 304).
 */
export function answerLength(buffer: Buffer): { status: number; length: number } | undefined {
  const end = buffer.indexOf(HEADER_END);
  if (end < 0) return undefined;
  const head = buffer.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!match) {
    if (status === 204 || status === 304) return { status, length: end + HEADER_END.length };
    throw new Error('an answer without Content-Length');
  }
  return { status, length: end + HEADER_END.length + Number(match[1]) };
}

export class HttpConnection {
  private readonly socket: net.Socket;
  private readonly ready: Promise<void>;
  private pending: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (status: number) => void; reject: (error: Error) => void } | undefined;
  /** Why the socket is unusable (closed, failed), once it is. */
  private closed: Error | undefined;

  constructor(private readonly target: URL) {
    this.socket = net.connect(Number(target.port || 80), target.hostname);
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.ready.catch(() => {}); // reported to the request that awaits it
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /**
   * Sends one request (headers as `name: value` lines, body as JSON) and resolves to the answer's status;
   * rejects when the connection is or gets closed (no reconnection: a load generator should see that).
   */
  async request(method: string, path: string, headers: readonly string[], body?: unknown): Promise<number> {
    await this.ready;
    if (this.closed) throw this.closed;
    if (this.waiter) throw new Error('one request at a time');
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${this.target.host}`, ...headers];
    if (payload !== undefined)
      lines.push('Content-Type: application/json', `Content-Length: ${payload.length}`);
    else if (method !== 'GET') lines.push('Content-Length: 0');
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(payload === undefined ? head : Buffer.concat([head, payload]), (error) => {
        if (error) this.fail(error);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let answer: { status: number; length: number } | undefined;
    try {
      answer = answerLength(this.pending);
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
      return;
    }
    if (answer === undefined || this.pending.length < answer.length) return;
    this.pending = this.pending.subarray(answer.length);
    const waiter = this.waiter;
    this.waiter = undefined;
    // One request is in flight at a time, so nothing else may follow its answer.
    if (this.pending.length > 0 || waiter === undefined) {
      this.fail(new Error('an answer no request asked for'));
      this.socket.destroy();
    }
    waiter?.resolve(answer.status);
  }

  private fail(error: Error): void {
    this.closed ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}
