import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';

/**
 * Gives the heap's slack back to the system after a burst of requests. V8 lets dead objects pile up in the old
 * generation until its next full collection, and sizes that wait by the burst's allocation rate: after the
 * benchmark's uncached reads an API process held 143 MB of heap of which 52 MB were live, and with no
 * allocation afterwards the collection never came (V8's memory reducer did not run in 40 s of idleness), so
 * the process kept ~300 MB resident. Here: once requests have stopped for `idleMs` after at least
 * `minRequests` of them, one full collection (tens of milliseconds, with nothing waiting), then nothing until
 * the next burst. A busy or a quiet process is never collected by this.
 */
export function collectWhenIdle(
  server: Server,
  logger: Logger,
  { idleMs = 2_000, minRequests = 1_000 }: { idleMs?: number; minRequests?: number } = {},
): () => void {
  // `gc` is not exposed without --expose-gc at launch; the flag takes effect for contexts made afterwards.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let sinceCheck = 0;
  let sinceCollection = 0;
  const count = () => {
    sinceCheck += 1;
  };
  server.on('request', count);
  const timer = setInterval(() => {
    if (sinceCheck > 0) {
      sinceCollection += sinceCheck;
      sinceCheck = 0;
      return;
    }
    if (sinceCollection < minRequests) return;
    sinceCollection = 0;
    const before = process.memoryUsage().rss;
    const startedAt = performance.now();
    gc();
    logger.debug(
      {
        ms: Math.round(performance.now() - startedAt),
        rss_before_mb: Math.round(before / 1048576),
        rss_after_mb: Math.round(process.memoryUsage().rss / 1048576),
      },
      'idle: heap collected',
    );
  }, idleMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off('request', count);
  };
}
