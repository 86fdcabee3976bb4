import type pg from 'pg';
import { isConnectionError } from './database.js';
import { type Lsn, lsnAtLeast, parseLsn } from './lsn.js';

/** What the read router knows of one replica, from its last health check. */
export interface ReplicaStatus {
  /** host:port, never the password. */
  name: string;
  reachable: boolean;
  /** Staleness bound in ms (0 = caught up); null when unknown. */
  lagMs: number | null;
  replayLsn: Lsn | null;
  /** Reachable, in recovery and within the lag bound: the router may send reads here. */
  usable: boolean;
}

export interface Replica {
  readonly pool: pg.Pool;
  readonly status: ReplicaStatus;
}

export interface ReplicaSetOptions {
  primary: pg.Pool;
  replicas: { name: string; pool: pg.Pool }[];
  maxLagMs: number;
  checkIntervalMs: number;
}

interface Sample {
  at: number;
  lsn: Lsn;
}

/**
 * Health-checks the replicas in the background. Lag is measured against the primary's own WAL position
 * sampled over time: a replica that has replayed the position the primary had at time T is at most now - T
 * stale. Unlike the replay timestamp alone, this stays at 0 on an idle primary.
 */
export function createReplicaSet(options: ReplicaSetOptions) {
  const samples: Sample[] = [];
  const replicas: Replica[] = options.replicas.map(({ name, pool }) => ({
    pool,
    status: { name, reachable: false, lagMs: null, replayLsn: null, usable: false },
  }));
  let next = 0;

  function lagOf(replay: Lsn, now: number): number {
    const newest = samples.at(-1);
    if (newest === undefined || lsnAtLeast(replay, newest.lsn)) return 0;
    for (let i = samples.length - 1; i >= 0; i -= 1) {
      const sample = samples[i] as Sample;
      if (lsnAtLeast(replay, sample.lsn)) return now - sample.at;
    }
    return now - (samples[0] as Sample).at;
  }

  async function samplePrimary(): Promise<boolean> {
    try {
      const { rows } = await options.primary.query<{ lsn: string }>(
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      const now = Date.now();
      samples.push({ at: now, lsn: parseLsn(rows[0]?.lsn ?? '') });
      while (samples.length > 2 && (samples[0] as Sample).at < now - 4 * options.maxLagMs) samples.shift();
      return true;
    } catch {
      return false;
    }
  }

  async function checkReplica(replica: Replica, primaryKnown: boolean): Promise<void> {
    try {
      const { rows } = await replica.pool.query<{ recovery: boolean; replay: string | null }>(
        'SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn()::text AS replay',
      );
      const row = rows[0];
      const replay = row?.replay ? parseLsn(row.replay) : null;
      replica.status.reachable = true;
      replica.status.replayLsn = replay;
      // While the primary is unreachable nothing new is committed, so the last judgement of lag stands.
      if (primaryKnown) replica.status.lagMs = replay === null ? null : lagOf(replay, Date.now());
      // A server out of recovery was promoted: it no longer follows this primary, so it is not read from.
      replica.status.usable =
        row?.recovery === true && replica.status.lagMs !== null && replica.status.lagMs <= options.maxLagMs;
    } catch {
      markDown(replica);
    }
  }

  /** A usable replica that has replayed at least fence (round robin), or null for the primary. */
  function pick(fence: Lsn | null): Replica | null {
    for (let i = 0; i < replicas.length; i += 1) {
      const replica = replicas[(next + i) % replicas.length] as Replica;
      const { usable, replayLsn } = replica.status;
      if (!usable || replayLsn === null) continue;
      if (fence !== null && !lsnAtLeast(replayLsn, fence)) continue;
      next = (next + i + 1) % replicas.length;
      return replica;
    }
    return null;
  }

  /** A read failed on this replica's connection: stop sending reads there until a check finds it again. */
  function reportFailure(replica: Replica, error: unknown): boolean {
    if (!isConnectionError(error)) return false;
    markDown(replica);
    return true;
  }

  function markDown(replica: Replica): void {
    replica.status.reachable = false;
    replica.status.usable = false;
  }

  async function check(): Promise<void> {
    const primaryKnown = await samplePrimary();
    await Promise.all(replicas.map((replica) => checkReplica(replica, primaryKnown)));
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(loop, options.checkIntervalMs);
    timer.unref();
  };
  const loop = () => {
    running = check().finally(schedule);
  };

  return {
    /** Runs the first check (so the first reads already use replicas), then checks in the background. */
    async start(): Promise<void> {
      await check();
      schedule();
    },
    pick,
    /**
     * Like pick, but when the replicas known so far are behind the fence, asks them where they are now: local
     * streaming replication usually replays a write within a millisecond, long before the next health check.
     */
    async pickFresh(fence: Lsn): Promise<Replica | null> {
      const known = pick(fence);
      if (known !== null) return known;
      for (const replica of replicas) {
        if (!replica.status.usable) continue;
        try {
          const { rows } = await replica.pool.query<{ replay: string | null }>(
            'SELECT pg_last_wal_replay_lsn()::text AS replay',
          );
          const replay = rows[0]?.replay ? parseLsn(rows[0].replay) : null;
          if (replay === null) continue;
          if (replica.status.replayLsn === null || replay > replica.status.replayLsn) {
            replica.status.replayLsn = replay;
          }
          if (lsnAtLeast(replay, fence)) return replica;
        } catch (error) {
          reportFailure(replica, error);
        }
      }
      return null;
    },
    reportFailure,
    pools: (): pg.Pool[] => replicas.map((replica) => replica.pool),
    statuses: (): ReplicaStatus[] => replicas.map((replica) => ({ ...replica.status })),
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}

export type ReplicaSet = ReturnType<typeof createReplicaSet>;
