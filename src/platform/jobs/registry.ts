import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Job handlers by type, apart from how jobs travel: the in-process runner (runner.ts) and a broker consumer
 * both look a handler up here and call run(). A handler must be idempotent: a job may run again after a crash
 * or a redelivery, and running it twice must change nothing the first run did not.
 */
export interface JobContext {
  id: number;
  attempt: number;
}

/** What a handler is told of its run: the transport's context, and whether a failure now makes the job dead. */
export interface HandlerContext extends JobContext {
  lastAttempt: boolean;
}

/** Thrown by a handler (or for a malformed payload) when retrying cannot help: the job goes dead at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

interface Definition {
  run(payload: unknown, context: JobContext): Promise<void>;
  maxAttempts: number;
}

export interface PeriodicTask {
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

export const DEFAULT_MAX_ATTEMPTS = 10;

export function createJobRegistry() {
  const definitions = new Map<string, Definition>();
  const periodic: PeriodicTask[] = [];

  return {
    register<S extends TSchema>(
      type: string,
      schema: S,
      handler: (payload: Static<S>, context: HandlerContext) => Promise<void>,
      options: { maxAttempts?: number } = {},
    ): void {
      if (definitions.has(type)) throw new Error(`Job type ${type} is registered twice`);
      const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      definitions.set(type, {
        maxAttempts,
        run: async (payload, context) => {
          if (!Value.Check(schema, payload)) {
            throw new PermanentJobError(`Malformed ${type} payload: ${JSON.stringify(payload)}`);
          }
          await handler(payload, { ...context, lastAttempt: context.attempt >= maxAttempts });
        },
      });
    },

    /** Housekeeping that runs every `everyMs` wherever jobs run; it must tolerate running in several processes. */
    every(name: string, everyMs: number, run: () => Promise<void>): void {
      periodic.push({ name, everyMs, run });
    },

    types(): string[] {
      return [...definitions.keys()];
    },

    definition(type: string): Definition | undefined {
      return definitions.get(type);
    },

    periodicTasks(): readonly PeriodicTask[] {
      return periodic;
    },
  };
}

export type JobRegistry = ReturnType<typeof createJobRegistry>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's job handlers, for whichever transport runs them (see cli/serve.ts). */
    jobs: JobRegistry;
  }
}
