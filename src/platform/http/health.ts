import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** A dependency /readyz must reach: it resolves when reachable and throws (with a reason) when not. */
export type ReadinessCheck = () => Promise<void>;

const READINESS_TIMEOUT_MS = 2_000;

async function probe(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer in ${READINESS_TIMEOUT_MS} ms`)),
      READINESS_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    return (error as Error).message || 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

/** Probes every check at once: ready when all answered, with each one's state ('ok' or the reason). */
export async function readiness(
  checks: Record<string, ReadinessCheck>,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await probe(check)] as const),
  );
  return { ready: entries.every(([, state]) => state === 'ok'), checks: Object.fromEntries(entries) };
}

/** /healthz says the process answers; /readyz says every dependency answers, 503 with details when not. */
export const healthPlugin = fp(
  async (app: FastifyInstance, options: { checks: Record<string, ReadinessCheck> }) => {
    const hidden = { schema: { hide: true }, logLevel: 'warn' as const };
    app.get('/healthz', hidden, async () => ({ status: 'ok' }));
    app.get('/readyz', hidden, async (_request, reply) => {
      const { ready, checks } = await readiness(options.checks);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
    });
  },
  { name: 'bazaar-health' },
);
