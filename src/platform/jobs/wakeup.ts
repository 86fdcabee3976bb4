/**
 * How a claiming loop (the job runner, the outbox relay) waits between rounds: until it is woken (a NOTIFY, a
 * job of its own finishing) or its idle poll ends, whichever comes first, and never sooner than `minGapMs` after
 * its last round began. Every commit that writes a job sends a NOTIFY; under a checkout burst, one claim per
 * notification came to two claims per order, a fifth of all the statements PostgreSQL ran (bench/checkout.ts).
 * Gathered, each claim takes the jobs of many commits, and a job waits at most `minGapMs` longer to start.
 */
export interface Wakeup {
  wake(): void;
  /** Marks the start of a round: wakes before this are spent, wakes during it are kept. */
  begin(): void;
  sleep(idleMs: number): Promise<void>;
}

export function createWakeup(minGapMs: number): Wakeup {
  let woken = false;
  let signal: (() => void) | null = null;
  let roundAt = Number.NEGATIVE_INFINITY;

  return {
    wake() {
      woken = true;
      signal?.();
    },
    begin() {
      woken = false;
      roundAt = performance.now();
    },
    async sleep(idleMs) {
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, idleMs);
          function done() {
            clearTimeout(timer);
            signal = null;
            resolve();
          }
          signal = done;
        });
      }
      // A timer may fire early by this clock (it counts from the event loop's cached time, which lags after
      // long synchronous work): the gap is checked again, so a round never begins sooner than minGapMs after
      // the last.
      for (;;) {
        const gap = roundAt + minGapMs - performance.now();
        if (gap <= 0) break;
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(gap)));
      }
    },
  };
}
