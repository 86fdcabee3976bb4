import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Database, prepared } from '../../src/platform/db/index.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { createPostgresDatabase, forEachEngine, requireService } from '../helpers/engines.js';

const LOOKUP = prepared('SELECT $1::int + 1 AS answer');

async function namesInSession(db: Database): Promise<{ answers: number[]; names: string[] }> {
  // One transaction: one connection, whose session holds what was prepared on it.
  return db.transaction(async (tx) => {
    const answers: number[] = [];
    for (const value of [1, 2, 3]) {
      const { rows } = await tx.query<{ answer: number }>(LOOKUP, [value]);
      answers.push(rows[0]?.answer as number);
    }
    const { rows } = await tx.query<{ name: string }>(
      `SELECT name FROM pg_prepared_statements WHERE statement = $1`,
      [LOOKUP],
    );
    return { answers, names: rows.map((row) => row.name) };
  });
}

describe('prepared()', () => {
  it('refuses a statement with optional filters, whose generic plan would fit no filter', () => {
    assert.throws(
      () => prepared('SELECT id FROM orders WHERE ($1::int IS NULL OR user_id = $1) ORDER BY id LIMIT 20'),
      /optional filters/,
    );
  });
});

forEachEngine('prepared statements', (ctx) => {
  it('give the same answers as unnamed ones', async () => {
    const { rows } = await ctx.db.query<{ answer: number }>(LOOKUP, [41]);
    assert.equal(rows[0]?.answer, 42);
  });
});

const adminUrl = requireService('TEST_DATABASE_URL');

describe('prepared statements on PostgreSQL', { skip: !adminUrl }, () => {
  let database: { url: string; drop: () => Promise<void> };
  before(async () => {
    database = await createPostgresDatabase(adminUrl as string);
  });
  after(() => database?.drop());

  it('are parsed once per connection under their registered name', async () => {
    const db = await openPostgres({ url: database.url, poolSize: 1 });
    try {
      const { answers, names } = await namesInSession(db);
      assert.deepEqual(answers, [2, 3, 4]);
      assert.equal(names.length, 1);
      assert.match(names[0] as string, /^bazaar_\d+$/);
    } finally {
      await db.close();
    }
  });

  it('are sent unnamed with preparedStatements false (DATABASE_PREPARED_STATEMENTS), for PgBouncer', async () => {
    const db = await openPostgres({ url: database.url, poolSize: 1, preparedStatements: false });
    try {
      const { answers, names } = await namesInSession(db);
      assert.deepEqual(answers, [2, 3, 4]);
      assert.deepEqual(names, []);
    } finally {
      await db.close();
    }
  });
});
