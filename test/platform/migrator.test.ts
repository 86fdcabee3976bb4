import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { migrate } from '../../src/platform/db/index.js';
import { MIGRATIONS_DIR, readMigrations } from '../../src/platform/db/migrator.js';
import { openPostgres } from '../../src/platform/db/postgres.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct, insertUser } from '../helpers/fixtures.js';
import { scratchDir } from '../helpers/scratch.js';

forEachEngine('migrations and constraints', (ctx) => {
  it('records every migration and changes nothing when run again', async () => {
    const all = await readMigrations();
    const { rows } = await ctx.db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    assert.deepEqual(
      rows.map((row) => row.name),
      all.map((m) => m.name),
    );
    assert.deepEqual(await migrate(ctx.db), []);
  });

  if (ctx.engine === 'postgres') {
    it('lets two processes migrate at once without colliding (advisory lock)', async () => {
      assert.ok(ctx.url);
      const dir = scratchDir('migrations');
      for (const m of await readMigrations(MIGRATIONS_DIR)) writeFileSync(path.join(dir, m.name), m.sql);
      writeFileSync(
        path.join(dir, '999_probe.sql'),
        'CREATE TABLE migration_probe (id integer); SELECT pg_sleep(0.3);',
      );
      const [a, b] = await Promise.all([openPostgres({ url: ctx.url }), openPostgres({ url: ctx.url })]);
      try {
        const ran = await Promise.all([migrate(a, dir), migrate(b, dir)]);
        assert.deepEqual(ran.flat(), ['999_probe.sql']);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  }

  it('refuses a migration edited after it ran', async () => {
    const dir = scratchDir('migrations');
    for (const m of await readMigrations()) writeFileSync(path.join(dir, m.name), `${m.sql}\n-- edited`);
    await assert.rejects(migrate(ctx.db, dir), /changed after it was applied/);
  });

  const violates = async (sql: string, params: unknown[]) =>
    assert.rejects(ctx.db.query(sql, params), (error: { code?: string }) => /^23/.test(error.code ?? ''));

  it('enforces stock >= 0, positive prices, quantities and ratings in the schema', async () => {
    const category = await insertCategory(ctx.db, 'Constraints');
    const product = await insertProduct(ctx.db, { categoryId: category, stock: 1 });
    const user = await insertUser(ctx.db);
    await violates('UPDATE products SET stock_quantity = stock_quantity - 2 WHERE id = $1', [product]);
    await violates('UPDATE products SET price = 0 WHERE id = $1', [product]);
    await violates(`INSERT INTO reviews (product_id, user_id, rating) VALUES ($1, $2, 6)`, [
      product,
      user.id,
    ]);
    await ctx.db.query('INSERT INTO shopping_carts (user_id) VALUES ($1)', [user.id]);
    await violates('INSERT INTO shopping_carts (user_id) VALUES ($1)', [user.id]);
    await violates(
      `INSERT INTO cart_items (cart_id, product_id, quantity)
       SELECT id, $2, 0 FROM shopping_carts WHERE user_id = $1`,
      [user.id, product],
    );
    await ctx.db.query('INSERT INTO reviews (product_id, user_id, rating) VALUES ($1, $2, 4)', [
      product,
      user.id,
    ]);
    await violates('INSERT INTO reviews (product_id, user_id, rating) VALUES ($1, $2, 5)', [
      product,
      user.id,
    ]);
  });

  it('keeps emails unique whatever their case', async () => {
    await ctx.db.query(
      `INSERT INTO users (username, email, password) VALUES ('casey', 'Casey@Example.com', 'x')`,
    );
    await violates(
      `INSERT INTO users (username, email, password) VALUES ('casey2', 'casey@example.COM', 'x')`,
      [],
    );
    await violates(
      `INSERT INTO users (username, email, password) VALUES ('casey', 'other@example.com', 'x')`,
      [],
    );
  });

  it('stores money exactly', async () => {
    const { rows } = await ctx.db.query<{ total: string }>(`SELECT (0.10::numeric(12,2) * 3)::text AS total`);
    assert.equal(rows[0]?.total, '0.30');
  });
});
