import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ReadinessCheck, readiness } from '../http/health.js';
import { metricsText } from './cluster.js';
import { registry } from './metrics.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The HTTP side of a process that serves no API (`bazaar worker`, on METRICS_PORT): GET /metrics for
 * Prometheus, and the probes of deploy/k8s/worker.yaml, GET /healthz (the process answers) and GET /readyz
 * (every check answers, else a 503 naming the failing ones), with the same bodies as the API's.
 * Anything else is a 404.
 */
export async function startMetricsServer(
  port: number,
  host: string,
  checks: Record<string, ReadinessCheck> = {},
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method === 'GET' && path === '/healthz') return json(response, 200, { status: 'ok' });
    if (request.method === 'GET' && path === '/readyz') {
      readiness(checks).then(({ ready, checks: states }) =>
        json(response, ready ? 200 : 503, { status: ready ? 'ok' : 'unavailable', checks: states }),
      );
      return;
    }
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metricsText().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(503, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Probes and scrapes keep connections alive; without this close() would wait for them to idle out.
        server.closeAllConnections();
      }),
  };
}
