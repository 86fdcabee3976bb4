import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { registry } from './metrics.js';

/**
 * Cluster mode (`serve --instances N`): the workers share one port, so a scrape of /metrics lands on any one
 * of them. That worker asks the primary, which collects every worker's registry over IPC (prom-client's
 * AggregatorRegistry), adds them up and answers: whichever worker Prometheus reaches, it sees the whole
 * cluster, and one scrape target per host is enough.
 */

const REQUEST = 'bazaar:metrics-request';
const RESULT = 'bazaar:metrics-result';
const ANSWER_TIMEOUT_MS = 8_000;

interface ResultMessage {
  type: typeof RESULT;
  id: number;
  text?: string;
  error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** Primary side: answers a worker's request with the sum of all workers' metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<{ type: typeof REQUEST; id: number }>(message, REQUEST)) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESULT, id: message.id, text } satisfies ResultMessage),
      (error: Error) =>
        worker.send({ type: RESULT, id: message.id, error: error.message } satisfies ResultMessage),
    );
  });
}

const waiting = new Map<number, (answer: ResultMessage) => void>();
let nextId = 0;
let workerInstalled = false;

/** Worker side: lets the primary read this registry, and routes the primary's answers to their requests. */
function installWorker(): void {
  if (workerInstalled) return;
  workerInstalled = true;
  AggregatorRegistry.setRegistries([registry]);
  // The constructor installs prom-client's responder to the primary's collection requests.
  new AggregatorRegistry();
  process.on('message', (message: unknown) => {
    if (!isMessage<ResultMessage>(message, RESULT)) return;
    waiting.get(message.id)?.(message);
  });
}

function askPrimary(): Promise<string> {
  installWorker();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the cluster primary did not answer the metrics request'));
    }, ANSWER_TIMEOUT_MS);
    waiting.set(id, (answer) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (answer.text !== undefined) resolve(answer.text);
      else reject(new Error(answer.error ?? 'metrics aggregation failed'));
    });
    process.send?.({ type: REQUEST, id });
  });
}

/** The Prometheus text of this process, or of the whole cluster when this process is a cluster worker. */
export function metricsText(): Promise<string> {
  return cluster.isWorker ? askPrimary() : registry.metrics();
}

/** Makes this worker's registry readable by the primary before the first scrape asks for it. */
export function prepareClusterWorker(): void {
  if (cluster.isWorker) installWorker();
}
