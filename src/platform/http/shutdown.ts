import net from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Graceful stop without failed requests. http.Server.close() would also drop idle keep-alive sockets at once,
 * racing a client that is writing its next request on one (it sees ECONNRESET). So: stop accepting new
 * connections, answer every request still arriving on an open connection with `Connection: close` (clients
 * then reconnect elsewhere), close the sockets that stay idle past a grace period, and cut what still hangs
 * at the deadline. The grace is generous (5 s): Node counts a socket whose next request is still unread in
 * the kernel buffer as idle, so on a starved event loop a short grace would reset requests already sent.
 * Fastify's own close then finds the listener closed and runs the onClose hooks (pools).
 */
export interface DrainOptions {
  graceMs?: number;
  deadlineMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openConnections(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}

export function installDrain(
  app: FastifyInstance,
  { graceMs = 5_000, deadlineMs = 15_000 }: DrainOptions = {},
) {
  let closing = false;
  app.addHook('onRequest', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('preClose', async () => {
    closing = true;
    const server = app.server;
    if (!server.listening) return;
    net.Server.prototype.close.call(server);
    const started = Date.now();
    let idleClosed = false;
    while ((await openConnections(server)) > 0) {
      const elapsed = Date.now() - started;
      if (elapsed >= deadlineMs) {
        server.closeAllConnections();
        break;
      }
      if (!idleClosed && elapsed >= graceMs) {
        server.closeIdleConnections();
        idleClosed = true;
      }
      await sleep(25);
    }
  });
}
