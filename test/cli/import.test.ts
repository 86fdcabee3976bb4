import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { ImportError, importCatalog } from '../../src/cli/import.js';
import { runCli } from '../helpers/cli.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory } from '../helpers/fixtures.js';

function catalogDir(files: { categories?: string; products?: string }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bazaar-import-'));
  if (files.categories !== undefined) writeFileSync(path.join(dir, 'categories.csv'), files.categories);
  if (files.products !== undefined) writeFileSync(path.join(dir, 'products.csv'), files.products);
  return dir;
}

const CATEGORIES = [
  'id,name,parent_id',
  '5001,Lighting,',
  '5002,Desk lamps,5001',
  '5003,Orphan,777777',
  'x,Bad id,',
  '5004,Loop A,5005',
  '5005,Loop B,5004',
  '5006,Too short',
].join('\n');

const PRODUCTS = [
  'name,description,price,stock_quantity,category_id',
  'Arc lamp,"Tall, bright",49.90,10,5002',
  'Cheap lamp,,abc,1,5002',
  'Lost lamp,,5.00,1,123456',
  'Wide lamp,,5.00,1,5002,extra',
  'Free lamp,,0,1,5001',
  '"Quoted ""lamp""","two\nlines",1.5,3,5001',
  'Minus lamp,,2.00,-1,5001',
  'Lamp in a rejected category,,3.00,1,5003',
].join('\r\n');

forEachEngine('bazaar import', (ctx) => {
  it('loads the good rows and reports each bad one by file, line and reason', async () => {
    const dir = catalogDir({ categories: CATEGORIES, products: PRODUCTS });
    const summary = await importCatalog(ctx.db, dir, { databaseUrl: ctx.url });
    assert.equal(summary.categories, 2);
    assert.equal(summary.products, 2);
    assert.deepEqual(
      summary.rejects.map((r) => `${r.file}:${r.line}: ${r.problem}`),
      [
        'categories.csv:4: parent 777777 is unknown, rejected, or part of a cycle',
        'categories.csv:5: id "x" is not a positive integer',
        'categories.csv:6: parent 5005 is unknown, rejected, or part of a cycle',
        'categories.csv:7: parent 5004 is unknown, rejected, or part of a cycle',
        'categories.csv:8: expected 3 columns (id,name,parent_id), found 2',
        'products.csv:3: price "abc" is not an amount such as 19.99',
        'products.csv:4: category 123456 does not exist',
        'products.csv:5: expected 5 columns (name,description,price,stock_quantity,category_id), found 6',
        'products.csv:6: price must be above 0',
        'products.csv:9: stock_quantity "-1" is not a whole number',
        'products.csv:10: category 5003 does not exist',
      ],
    );
    assert.equal(summary.rejected, 11);
    const { rows } = await ctx.db.query<{ name: string; description: string; price: string; parent: number }>(
      `SELECT p.name, p.description, p.price::text AS price, c.parent_id AS parent
       FROM products p JOIN categories c ON c.id = p.category_id ORDER BY p.id`,
    );
    assert.deepEqual(rows, [
      { name: 'Arc lamp', description: 'Tall, bright', price: '49.90', parent: 5001 },
      { name: 'Quoted "lamp"', description: 'two\nlines', price: '1.50', parent: null },
    ]);
    // New categories came with their ids: the next one created gets a fresh id, not a collision.
    assert.ok((await insertCategory(ctx.db, 'After import')) > 5002);
  });

  it('updates categories that exist and refuses a second sibling of the same name', async () => {
    const dir = catalogDir({
      categories: 'id,name,parent_id\n5001,Lights,\n6001,desk LAMPS,5001\n6002,Twin,\n6003,twin,\n',
    });
    const summary = await importCatalog(ctx.db, dir, { databaseUrl: ctx.url });
    assert.equal(summary.categories, 1);
    assert.deepEqual(
      summary.rejects.map((r) => r.line),
      [3, 4, 5],
    );
    const { rows } = await ctx.db.query<{ name: string }>('SELECT name FROM categories WHERE id = 5001');
    assert.equal(rows[0]?.name, 'Lights');
  });

  it('refuses a file whose header is not the documented one, and changes nothing', async () => {
    const before = await ctx.db.query('SELECT id FROM products');
    const dir = catalogDir({ products: 'name,price\nLamp,1.00\n' });
    await assert.rejects(importCatalog(ctx.db, dir, { databaseUrl: ctx.url }), (error) => {
      assert.ok(error instanceof ImportError);
      assert.match(error.message, /products\.csv: the first line must be the header name,description/);
      return true;
    });
    assert.equal((await ctx.db.query('SELECT id FROM products')).rowCount, before.rowCount);
  });

  it('refuses a directory with neither file', async () => {
    await assert.rejects(
      importCatalog(ctx.db, catalogDir({}), { databaseUrl: ctx.url }),
      /neither categories\.csv nor products\.csv/,
    );
  });
});

it('bazaar import prints the rejects and a summary, and exits 1 when rows were rejected', async () => {
  const dir = catalogDir({ categories: CATEGORIES, products: PRODUCTS });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bazaar-import-data-'));
  const result = await runCli(['import', dir], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /Imported 2 categories and 2 products in [\d.]+ s; 11 rows rejected/);
  assert.match(result.stderr, /^products\.csv:3: price "abc" is not an amount such as 19\.99$/m);
});
