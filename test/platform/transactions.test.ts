import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Database, PgErrorCode, pgErrorCode, prepared } from '../../src/platform/db/index.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { createPostgresDatabase, forEachEngine, requireService } from '../helpers/engines.js';
import { countingProxy } from '../helpers/wire.js';

const CREATE = 'CREATE TABLE tx_notes (id integer PRIMARY KEY, note text NOT NULL)';
const ADD = prepared('INSERT INTO tx_notes (id, note) VALUES ($1, $2)');
const ECHO = prepared(
  `SELECT $1::text AS text, $2::int[] AS ints, $3::text[] AS texts, $4::boolean AS flag,
          $5::numeric AS amount, $6::jsonb AS doc, $7::text AS nothing`,
);

const tricky = [
  `it's a "quote", a back\\slash\\, a new\nline and ü€😀`,
  [1, -2, 30],
  ['a,b', 'q"uote', 'back\\slash', null, '', 'NULL', '{braces}'],
  false,
  '19.99',
  JSON.stringify({ say: "it's \\ fine", list: [1, 2] }),
  null,
];

async function notes(db: Database): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>('SELECT id FROM tx_notes ORDER BY id');
  return rows.map((row) => row.id);
}

/** Which of these notes were committed, in id order. */
async function notesAmong(db: Database, ids: readonly number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM tx_notes WHERE id = ANY($1::int[]) ORDER BY id',
    [ids],
  );
  return rows.map((row) => row.id);
}

forEachEngine('transactions', (ctx) => {
  before(() => ctx.db.exec(CREATE));

  it('commit the work with the statement given to queryAndCommit', async () => {
    await ctx.db.transaction(async (tx) => {
      await tx.query(ADD, [1, 'first']);
      await tx.queryAndCommit(ADD, [2, 'last']);
    });
    assert.deepEqual(await notes(ctx.db), [1, 2]);
  });

  it('commit nothing when the last statement fails, and leave the connection usable', async () => {
    for (const id of [3, 4]) {
      const failure = await ctx.db
        .transaction(async (tx) => {
          await tx.query(ADD, [id, 'kept only if the last statement commits']);
          await tx.queryAndCommit(ADD, [1, 'a duplicate key']);
        })
        .catch((error: unknown) => error);
      assert.equal(pgErrorCode(failure), PgErrorCode.uniqueViolation);
    }
    await ctx.db.transaction(async (tx) => tx.queryAndCommit(ADD, [5, 'alone']));
    assert.deepEqual(await notes(ctx.db), [1, 2, 5]);
  });

  it('refuse a statement after the last one', async () => {
    await ctx.db.transaction(async (tx) => {
      await tx.query(ADD, [6, 'first']);
      await tx.queryAndCommit(ADD, [7, 'last']);
      await assert.rejects(tx.query(ADD, [8, 'too late']), /already sent its last statement/);
    });
    assert.deepEqual(await notes(ctx.db), [1, 2, 5, 6, 7]);
  });

  it('roll back when the work throws after its first statement', async () => {
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await tx.query(ADD, [9, 'undone']);
        throw new Error('the work failed');
      }),
      /the work failed/,
    );
    assert.deepEqual(await notes(ctx.db), [1, 2, 5, 6, 7]);
  });

  it('keep the work committed when fn throws after its last statement went through', async () => {
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await tx.query(ADD, [20, 'first']);
        await tx.queryAndCommit(ADD, [21, 'last']);
        throw new Error('after the commit');
      }),
      /after the commit/,
    );
    assert.deepEqual(await notesAmong(ctx.db, [20, 21]), [20, 21]);
  });

  it('run a deferred statement with the next one, and settle its promise with its result', async () => {
    const answers = await ctx.db.transaction(async (tx) => {
      const deferred = tx.defer(ADD, [40, 'deferred']);
      const seen = await tx.query<{ id: number }>('SELECT id FROM tx_notes WHERE id = 40');
      return { rowCount: (await deferred).rowCount, seen: seen.rows.map((row) => row.id) };
    });
    assert.deepEqual(answers, { rowCount: 1, seen: [40] });
    const rows = await ctx.db.transaction(async (tx) => {
      const first = tx.defer<{ n: number }>(prepared('SELECT $1::int AS n'), [1]);
      const second = tx.defer<{ n: number }>(prepared('SELECT $1::int AS n'), [2]);
      await tx.queryAndCommit(ADD, [41, 'last']);
      return [(await first).rows[0]?.n, (await second).rows[0]?.n];
    });
    assert.deepEqual(rows, [1, 2]);
    assert.deepEqual((await notes(ctx.db)).slice(-2), [40, 41]);
  });

  it('send deferred statements still waiting when the work returns before its COMMIT', async () => {
    await ctx.db.transaction(async (tx) => {
      await tx.query(ADD, [42, 'first']);
      void tx.defer(ADD, [43, 'deferred, never followed']);
    });
    await ctx.db.transaction(async (tx) => {
      void tx.defer(ADD, [44, 'the only statement, deferred']);
    });
    assert.deepEqual((await notes(ctx.db)).slice(-3), [42, 43, 44]);
  });

  it('fail the transaction when a deferred statement fails, even if the work catches the error', async () => {
    const caught: unknown[] = [];
    const failure = await ctx.db
      .transaction(async (tx) => {
        await tx.query(ADD, [45, 'undone']);
        const deferred = tx.defer(ADD, [1, 'a duplicate key']);
        await tx.query(ADD, [46, 'never runs']).catch((error: unknown) => caught.push(error));
        await deferred.catch((error: unknown) => caught.push(error));
        // Nothing more may go on this transaction, and it must not commit.
        assert.throws(() => tx.defer(ADD, [47, 'refused']));
        await tx.query(ADD, [47, 'refused']).catch((error: unknown) => caught.push(error));
        return 'returned normally';
      })
      .catch((error: unknown) => error);
    assert.equal(pgErrorCode(failure), PgErrorCode.uniqueViolation);
    assert.deepEqual(
      caught.map((error) => pgErrorCode(error)),
      [PgErrorCode.uniqueViolation, PgErrorCode.uniqueViolation, PgErrorCode.uniqueViolation],
    );
    assert.deepEqual(await notesAmong(ctx.db, [45, 46, 47]), []);
  });

  it("fail the transaction, and commit nothing, when a deferred statement's check throws", async () => {
    const refuse = () => {
      throw new Error('the check refused it');
    };
    for (const last of [false, true]) {
      await assert.rejects(
        ctx.db.transaction(async (tx) => {
          void tx.defer(ADD, [48, 'checked'], refuse);
          if (last) await tx.queryAndCommit(ADD, [49, 'would commit']);
          else await tx.query(ADD, [49, 'never runs']).catch(() => 'caught');
        }),
        /the check refused it/,
      );
    }
    assert.deepEqual(await notesAmong(ctx.db, [48, 49]), []);
  });

  it('send a deferred statement alone when the work awaits it before any other statement', async () => {
    const answer = await ctx.db.transaction(async (tx) => {
      const { rows } = await tx.defer<{ n: number }>(prepared('SELECT $1::int AS n'), [7]);
      await tx.query(ADD, [61, 'after the awaited deferred statement']);
      return rows[0]?.n;
    });
    assert.equal(answer, 7);
    assert.deepEqual(await notesAmong(ctx.db, [61]), [61]);
  });

  it('refuse statements once queryAndCommit was called, even before it is sent', async () => {
    await ctx.db.transaction(async (tx) => {
      void tx.defer(ADD, [62, 'checked'], () => {});
      const last = tx.queryAndCommit(ADD, [63, 'last']);
      assert.throws(() => tx.defer(ADD, [64, 'too late']), /already sent its last statement/);
      await assert.rejects(tx.query(ADD, [64, 'too late']), /already sent its last statement/);
      await last;
    });
    assert.deepEqual(await notesAmong(ctx.db, [62, 63, 64]), [62, 63]);
  });

  /** The error a transaction throws when the work caught a failed statement's and returned. */
  const rolledBackError = (error: unknown) =>
    // PostgreSQL: Bazaar's rolledBack(); PGlite: its own, for a COMMIT answered ROLLBACK.
    ctx.db.engine === 'postgres' ? pgErrorCode(error) === '25P02' : error instanceof Error;

  it('throw when the work catches its failed last statement and returns, alone or not', async () => {
    for (const alone of [false, true]) {
      await assert.rejects(
        ctx.db.transaction(async (tx) => {
          if (!alone) await tx.query(ADD, [66, 'undone']);
          await tx.queryAndCommit(ADD, [1, 'a duplicate key']).catch(() => 'caught');
          return 'returned normally';
        }),
        rolledBackError,
      );
    }
    assert.deepEqual(await notesAmong(ctx.db, [66]), []);
  });

  it('throw, and commit nothing, when the work catches a failed statement and returns', async () => {
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await tx.query(ADD, [65, 'undone']);
        await tx.query(ADD, [1, 'a duplicate key']).catch(() => 'caught');
        return 'returned normally';
      }),
      rolledBackError,
    );
    assert.deepEqual(await notesAmong(ctx.db, [65]), []);
  });

  it("throw the work's own error when it maps a deferred statement's failure", async () => {
    class Mapped extends Error {}
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        void tx.defer(ADD, [1, 'a duplicate key']);
        try {
          await tx.query(ADD, [67, 'refused']);
        } catch (error) {
          if (pgErrorCode(error) === PgErrorCode.uniqueViolation) throw new Mapped('a 409, say');
          throw error;
        }
      }),
      (error: unknown) => error instanceof Mapped,
    );
    assert.deepEqual(await notesAmong(ctx.db, [67]), []);
  });

  it('run statements in the order the work sent them, deferred or not', async () => {
    const TICKET = prepared(`SELECT $1::text AS name, nextval('tx_tickets')::int AS n`);
    await ctx.db.exec('CREATE SEQUENCE IF NOT EXISTS tx_tickets');
    const order = await ctx.db.transaction(async (tx) => {
      const sent = [
        tx.defer<{ name: string; n: number }>(TICKET, ['a']),
        tx.query<{ name: string; n: number }>(TICKET, ['b']),
        tx.defer<{ name: string; n: number }>(TICKET, ['c']),
        tx.query<{ name: string; n: number }>(TICKET, ['d']),
      ];
      const rows = (await Promise.all(sent)).map(({ rows }) => rows[0] as { name: string; n: number });
      return rows.sort((x, y) => x.n - y.n).map((row) => row.name);
    });
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
  });

  it('send nothing after the rollback when the work throws while deferred statements go alone', async () => {
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        void tx.defer(ADD, [80, 'undone']);
        void tx.defer(ADD, [81, 'undone']);
        await new Promise((resolve) => setImmediate(resolve)); // they leave alone meanwhile
        throw new Error('the work failed');
      }),
      /the work failed/,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await notesAmong(ctx.db, [80, 81]), []);
  });

  it('read parameters back as they were bound, first and last in a transaction alike', async () => {
    const { rows: bound } = await ctx.db.query(ECHO, tricky);
    // Several rounds, so the statement is prepared on the connection and goes by EXECUTE on PostgreSQL.
    for (let round = 0; round < 3; round += 1) {
      const answers = await ctx.db.transaction(async (tx) => {
        const first = await tx.query(ECHO, tricky);
        const last = await tx.queryAndCommit(ECHO, tricky);
        return [first.rows, last.rows];
      });
      assert.deepEqual(answers, [bound, bound]);
    }
    assert.equal((bound[0] as { text: string }).text, tricky[0]);
    assert.deepEqual((bound[0] as { texts: unknown }).texts, tricky[2]);
  });
});

const adminUrl = requireService('TEST_DATABASE_URL');

describe('transactions on PostgreSQL, counted on the wire', { skip: !adminUrl }, () => {
  let database: { url: string; drop: () => Promise<void> };
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  before(async () => {
    database = await createPostgresDatabase(adminUrl as string);
    proxy = await countingProxy(new URL(database.url));
  });
  after(async () => {
    await proxy?.close();
    await database?.drop();
  });

  /** Round trips of a two-statement transaction, each run on the pool's one connection. */
  async function twoStatements(db: Database, ids: number[]): Promise<number[]> {
    const trips: number[] = [];
    for (const id of ids) {
      const before = proxy.roundTrips();
      await db.transaction(async (tx) => {
        await tx.query(ADD, [id, 'first']);
        await tx.queryAndCommit(ADD, [-id, 'last']);
      });
      trips.push(proxy.roundTrips() - before);
    }
    return trips;
  }

  it('send BEGIN and COMMIT with the statements once those are prepared on the connection', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      await db.exec(CREATE);
      // First: the pool's probe (two), BEGIN, ADD (prepared on the connection by it), ADD + COMMIT. Then:
      // BEGIN + ADD, ADD + COMMIT.
      assert.deepEqual(await twoStatements(db, [1, 2, 3]), [5, 2, 2]);
      assert.deepEqual(await notes(db), [-3, -2, -1, 1, 2, 3]);
    } finally {
      await db.close();
    }
  });

  it('roll back a last statement that failed when fn catches its error, leaving the connection clean', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      await twoStatements(db, [30]); // ADD prepared on the one connection: the last statement goes with COMMIT
      const caught: unknown[] = [];
      const failure = await db
        .transaction(async (tx) => {
          await tx.query(ADD, [31, 'undone with the failed last statement']);
          await tx.queryAndCommit(ADD, [30, 'a duplicate key']).catch((error: unknown) => caught.push(error));
          return 'returned normally';
        })
        .catch((error: unknown) => error);
      assert.deepEqual(caught.map(pgErrorCode), [PgErrorCode.uniqueViolation]);
      assert.equal(pgErrorCode(failure), '25P02'); // rolled back, and said so
      // The same connection serves the next statement: no transaction was left aborted on it.
      assert.deepEqual(await notesAmong(db, [30, -30, 31]), [-30, 30]);
    } finally {
      await db.close();
    }
  });

  it('write literals that read back right with standard_conforming_strings off', async () => {
    const name = new URL(database.url).pathname.slice(1);
    const admin = await openPostgres({ url: database.url, poolSize: 1 });
    await admin.exec(`ALTER DATABASE ${name} SET standard_conforming_strings = off`);
    await admin.close();
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      const { rows: bound } = await db.query(ECHO, tricky);
      const trips: number[] = [];
      for (let round = 0; round < 3; round += 1) {
        const before = proxy.roundTrips();
        const answers = await db.transaction(async (tx) => [
          (await tx.query(ECHO, tricky)).rows,
          (await tx.queryAndCommit(ECHO, tricky)).rows,
        ]);
        trips.push(proxy.roundTrips() - before);
        assert.deepEqual(answers, [bound, bound]);
      }
      // The probe and BEGIN alone first (ECHO not yet prepared on this connection), then the piggybacked pair.
      assert.deepEqual(trips.slice(1), [2, 2]);
      assert.equal((bound[0] as { text: string }).text, tricky[0]);
    } finally {
      await db.close();
      const reset = await openPostgres({ url: database.url, poolSize: 1 });
      await reset.exec(`ALTER DATABASE ${name} RESET standard_conforming_strings`);
      await reset.close();
    }
  });

  it('send deferred statements in the round trip of the statement after them', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      await twoStatements(db, [50]); // ADD prepared on the one connection
      const trips: number[] = [];
      const counted = async (work: Parameters<Database['transaction']>[0]) => {
        const before = proxy.roundTrips();
        await db.transaction(work);
        trips.push(proxy.roundTrips() - before);
      };
      // BEGIN + two deferred + a statement; two deferred + the last statement + COMMIT.
      await counted(async (tx) => {
        void tx.defer(ADD, [51, 'a']);
        void tx.defer(ADD, [52, 'b']);
        await tx.query(ADD, [53, 'c']);
        void tx.defer(ADD, [54, 'd']);
        void tx.defer(ADD, [55, 'e']);
        await tx.queryAndCommit(ADD, [56, 'f']);
      });
      // BEGIN + a statement; a deferred one left waiting + COMMIT.
      await counted(async (tx) => {
        await tx.query(ADD, [57, 'g']);
        void tx.defer(ADD, [58, 'h']);
      });
      // A checked deferred statement never rides with COMMIT: BEGIN + it, then the last statement + COMMIT.
      await counted(async (tx) => {
        void tx.defer(ADD, [59, 'i'], () => {});
        await tx.queryAndCommit(ADD, [60, 'j']);
      });
      assert.deepEqual(trips, [2, 2, 2]);
      assert.deepEqual(
        (await notes(db)).filter((id) => id > 50),
        [51, 52, 53, 54, 55, 56, 57, 58, 59, 60],
      );
    } finally {
      await db.close();
    }
  });

  const NUMBER = prepared('SELECT $1::int AS n');

  /** The value of each deferred statement and each statement, in the order sent. */
  async function values(db: Database): Promise<(number | undefined)[]> {
    return db.transaction(async (tx) => {
      const n = (promise: Promise<{ rows: { n: number }[] }>) => promise.then(({ rows }) => rows[0]?.n);
      const first = n(tx.defer(NUMBER, [1]));
      const second = n(tx.defer(NUMBER, [2]));
      const third = await n(tx.query(NUMBER, [3]));
      const fourth = n(tx.defer(NUMBER, [4]));
      const last = await n(tx.queryAndCommit(NUMBER, [5]));
      return [await first, await second, third, await fourth, last];
    });
  }

  it('give each deferred statement its own result from a message with BEGIN and COMMIT in it', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      assert.deepEqual(await values(db), [1, 2, 3, 4, 5]); // each alone: NUMBER prepared on the connection
      const before = proxy.roundTrips();
      assert.deepEqual(await values(db), [1, 2, 3, 4, 5]);
      assert.equal(proxy.roundTrips() - before, 2);
    } finally {
      await db.close();
    }
  });

  it('fail the transaction when a deferred statement fails in the message that carries COMMIT', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      await twoStatements(db, [70]); // ADD prepared on the one connection
      const before = proxy.roundTrips();
      const failure = await db
        .transaction(async (tx) => {
          await tx.query(ADD, [71, 'undone']);
          void tx.defer(ADD, [70, 'a duplicate key']);
          await tx.queryAndCommit(ADD, [72, 'not committed']);
        })
        .catch((error: unknown) => error);
      assert.equal(pgErrorCode(failure), PgErrorCode.uniqueViolation);
      // BEGIN + 71; the duplicate + 72 + COMMIT; ROLLBACK.
      assert.equal(proxy.roundTrips() - before, 3);
      assert.deepEqual(await notesAmong(db, [71, 72]), []);
    } finally {
      await db.close();
    }
  });

  for (const preparedStatements of [true, false]) {
    const path = preparedStatements ? 'in one message' : 'one round trip each';
    it(`reject the deferred statements after one whose check failed, ${path}`, async () => {
      const db = await openPostgres({ url: proxy.url, poolSize: 1, preparedStatements });
      try {
        await values(db); // NUMBER prepared on the one connection
        const settled: string[] = [];
        const failure = await db
          .transaction(async (tx) => {
            const record = (name: string, promise: Promise<unknown>) =>
              promise.then(
                () => settled.push(`${name} resolved`),
                () => settled.push(`${name} rejected`),
              );
            const checks = [
              record('before', tx.defer(NUMBER, [1])),
              record(
                'checked',
                tx.defer(NUMBER, [2], () => assert.fail('the check refused it')),
              ),
              record('after', tx.defer(NUMBER, [3])),
              record('statement', tx.query(NUMBER, [4])),
            ];
            await Promise.all(checks);
            void tx.defer(ADD, [73, 'refused']);
          })
          .catch((error: unknown) => error);
        assert.match(String(failure), /the check refused it/);
        assert.deepEqual(settled, [
          'before resolved',
          'checked rejected',
          'after rejected',
          'statement rejected',
        ]);
      } finally {
        await db.close();
      }
    });
  }

  it('send a deferred statement awaited before anything else alone, in a round trip of its own', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      await values(db);
      const before = proxy.roundTrips();
      await db.transaction(async (tx) => {
        await tx.defer(NUMBER, [1]);
        await tx.query(NUMBER, [2]);
      });
      // BEGIN + the deferred one; the statement; COMMIT.
      assert.equal(proxy.roundTrips() - before, 3);
    } finally {
      await db.close();
    }
  });

  it('send nothing after the rollback when the work throws while deferred statements go one by one', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1, preparedStatements: false });
    try {
      await assert.rejects(
        db.transaction(async (tx) => {
          void tx.defer(ADD, [82, 'undone']);
          void tx.defer(ADD, [83, 'undone']);
          await new Promise((resolve) => setImmediate(resolve)); // the first is on its way
          throw new Error('the work failed');
        }),
        /the work failed/,
      );
      // The same connection, next: had the second gone after the ROLLBACK, it would have committed alone.
      assert.deepEqual(await notesAmong(db, [82, 83]), []);
    } finally {
      await db.close();
    }
  });

  it("never write a secret statement's parameters into a message, even after deferred statements", async () => {
    const SECRET = prepared('SELECT $1::text AS token', { secret: true });
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    try {
      await values(db); // NUMBER prepared on the one connection
      // Prepared on the connection by a transaction, as the others: without the secret flag it would go by EXECUTE.
      await db.transaction(async (tx) => tx.query(SECRET, ['prepares it']));
      const before = proxy.roundTrips();
      const token = await db.transaction(async (tx) => {
        void tx.defer(NUMBER, [1]);
        const { rows } = await tx.query<{ token: string }>(SECRET, ['tok_secret_42']);
        await tx.queryAndCommit(NUMBER, [2]);
        return rows[0]?.token;
      });
      assert.equal(token, 'tok_secret_42');
      // BEGIN + the deferred statement; the secret one, bound; the last + COMMIT.
      assert.equal(proxy.roundTrips() - before, 3);
      assert.ok(!proxy.queryTexts().some((text) => text.includes('tok_secret_42')));
    } finally {
      await db.close();
    }
  });

  it('send each on its own without named statements (PgBouncer), with the same result', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1, preparedStatements: false });
    try {
      assert.deepEqual(await twoStatements(db, [4, 5]), [4, 4]);
      assert.deepEqual(
        (await notes(db)).filter((id) => Math.abs(id) <= 5),
        [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5],
      );
    } finally {
      await db.close();
    }
  });

  it('send BEGIN alone when a parameter cannot be written as a literal', async () => {
    const db = await openPostgres({ url: proxy.url, poolSize: 1 });
    const BYTES = prepared('SELECT length($1::bytea) AS bytes');
    try {
      const trips: number[] = [];
      for (let round = 0; round < 2; round += 1) {
        const before = proxy.roundTrips();
        const { rows } = await db.transaction(async (tx) => {
          const answer = await tx.query<{ bytes: number }>(BYTES, [Buffer.from([0, 1, 2])]);
          await tx.query(ADD, [10 + round, 'after the bytes']);
          return answer;
        });
        assert.equal(rows[0]?.bytes, 3);
        trips.push(proxy.roundTrips() - before);
      }
      // BEGIN, the bytes, the insert, COMMIT (after the pool's probe the first time): a Buffer has no literal
      // here, so BEGIN goes alone both times.
      assert.deepEqual(trips, [6, 4]);
    } finally {
      await db.close();
    }
  });
});
