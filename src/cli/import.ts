import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { catalogDeps } from '../modules/catalog/cache-keys.js';
import { recordInvalidation } from '../platform/cache/invalidation-job.js';
import type { Database, Queryable } from '../platform/db/index.js';
import { CsvReader, type CsvRecord } from './csv.js';
import * as sql from './import-sql.js';
import { loadProductsInBulk } from './products-bulk-load.js';
import { createProgress } from './progress.js';

/**
 * `bazaar import DIR`: categories.csv (id,name,parent_id) and products.csv
 * (name,description,price,stock_quantity,category_id), each with a header line, either or both. Rows stream
 * into staging tables (COPY on PostgreSQL, multi-row inserts on PGlite), are validated in SQL, and the good
 * ones are loaded in one transaction; every bad row is reported by file and line, and none stops the others.
 */

export interface Reject {
  file: string;
  line: number;
  problem: string;
}

export interface ImportSummary {
  categories: number;
  products: number;
  rejected: number;
  /** The first rejects, in file and line order (all of them up to REJECTS_SHOWN). */
  rejects: Reject[];
  seconds: number;
  /** Where the time went, phase by phase, in the order they ran. */
  phases: Phase[];
}

export interface Phase {
  name: string;
  seconds: number;
}

export class ImportError extends Error {}

const REJECTS_SHOWN = 100;
/** From this many staged products, the load sets indexes, foreign keys and trigger aside (products-bulk-load.ts). */
const BULK_PRODUCTS = 100_000;
const BATCH_ROWS = 5_000;

interface StagingWriter {
  write(line: number, fields: string[]): void | Promise<void>;
  end(): Promise<void>;
  /** Gives up on the staging (a COPY in progress must be failed before the connection can roll back). */
  abort(error: Error): Promise<void>;
}

type StagingFactory = (table: string, columns: number) => Promise<StagingWriter>;

/** PostgreSQL: COPY ... FROM STDIN in text format, written in ~64 KB chunks, honouring back-pressure. */
function copyStaging(client: pg.Client): StagingFactory {
  const copyText = (value: string) =>
    /[\\\t\n\r]/.test(value)
      ? value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] ?? c)
      : value;
  return async (table, columns) => {
    const stream = client.query(copyFrom(`COPY ${table} FROM STDIN`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
    });
    let chunk = '';
    const flush = async () => {
      const full = !stream.write(chunk);
      chunk = '';
      if (full) await new Promise((resolve) => stream.once('drain', resolve));
    };
    return {
      write(line, fields) {
        let row = `${line}\t${fields.length}`;
        for (let i = 0; i < columns; i += 1) {
          const value = fields[i];
          row += value === undefined ? '\t\\N' : `\t${copyText(value)}`;
        }
        chunk += `${row}\n`;
        return chunk.length > 65_536 ? flush() : undefined;
      },
      async end() {
        if (chunk) await flush();
        stream.end();
        await done;
      },
      async abort(error) {
        stream.destroy(error);
        await done.catch(() => {});
      },
    };
  };
}

/** PGlite: rows batched into one INSERT ... SELECT FROM unnest(arrays) per BATCH_ROWS. */
function batchStaging(db: Queryable): StagingFactory {
  return async (table, columns) => {
    let batch: (string | number | null)[][] = [];
    const placeholders = Array.from(
      { length: columns + 2 },
      (_, i) => `$${i + 1}::${i < 2 ? 'int' : 'text'}[]`,
    );
    const insert = `INSERT INTO ${table} SELECT * FROM unnest(${placeholders.join(', ')})`;
    const flush = async () => {
      const arrays = Array.from({ length: columns + 2 }, (_, i) => batch.map((row) => row[i] ?? null));
      batch = [];
      await db.query(insert, arrays);
    };
    return {
      write(line, fields) {
        batch.push([line, fields.length, ...fields.slice(0, columns)]);
        return batch.length >= BATCH_ROWS ? flush() : undefined;
      },
      async end() {
        if (batch.length > 0) await flush();
      },
      async abort() {
        batch = [];
      },
    };
  };
}

/**
 * Streams one CSV file (after its header) into a staging table, advancing the progress bar by bytes read;
 * returns how many rows it staged.
 */
async function stage(
  file: string,
  header: readonly string[],
  staging: StagingWriter,
  advance: (bytes: number) => void,
): Promise<number> {
  const reader = new CsvReader();
  const decoder = new StringDecoder('utf8');
  const pending: CsvRecord[] = [];
  let rows = 0;
  const collect = (record: CsvRecord) => {
    if (record.line > 1) {
      pending.push(record);
      rows += 1;
    } else if (record.fields.map((field) => field.trim()).join(',') !== header.join(',')) {
      throw new ImportError(`${path.basename(file)}: the first line must be the header ${header.join(',')}`);
    }
  };
  try {
    for await (const bytes of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      reader.push(decoder.write(bytes), collect);
      for (const record of pending.splice(0)) await staging.write(record.line, record.fields);
      advance(bytes.length);
    }
    reader.push(decoder.end(), collect);
    reader.end(collect);
    for (const record of pending.splice(0)) await staging.write(record.line, record.fields);
  } catch (error) {
    await staging.abort(error as Error);
    throw error;
  }
  await staging.end();
  return rows;
}

async function rejectsOf(db: Queryable, table: string, file: string) {
  const { rows } = await db.query<{ line: number; problem: string; total: number }>(sql.REJECTS(table), [
    REJECTS_SHOWN,
  ]);
  return { total: rows[0]?.total ?? 0, rejects: rows.map(({ line, problem }) => ({ file, line, problem })) };
}

/** Times the phases of an import, one after the other. */
function phaseClock() {
  const phases: Phase[] = [];
  let current: { name: string; since: number } | null = null;
  const end = () => {
    if (current) {
      const seconds = Math.round((performance.now() - current.since) / 100) / 10;
      phases.push({ name: current.name, seconds });
    }
    current = null;
  };
  return {
    start(name: string) {
      end();
      current = { name, since: performance.now() };
    },
    end,
    phases,
  };
}

type PhaseClock = ReturnType<typeof phaseClock>;

async function run(
  db: Queryable,
  dir: string,
  staging: StagingFactory,
  clock: PhaseClock,
  bulkProducts: number,
): Promise<Omit<ImportSummary, 'seconds' | 'phases'>> {
  const files = { categories: path.join(dir, 'categories.csv'), products: path.join(dir, 'products.csv') };
  const present = (Object.keys(files) as (keyof typeof files)[]).filter((kind) => existsSync(files[kind]));
  if (present.length === 0) throw new ImportError(`${dir} holds neither categories.csv nor products.csv`);
  const progress = createProgress(
    'import',
    present.reduce((sum, kind) => sum + statSync(files[kind]).size, 0),
  );
  const phase = (name: string) => {
    clock.start(name);
    progress.phase(name);
  };
  const summary = { categories: 0, products: 0, rejected: 0, rejects: [] as Reject[] };
  try {
    // Index builds may use more memory than one query's default: this transaction only.
    await db.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    for (const kind of present) {
      const spec = sql.STAGING[kind];
      phase(`stage ${kind}`);
      await db.query(spec.create);
      const writer = await staging(spec.table, spec.columns.length);
      const staged = await stage(files[kind], spec.columns, writer, progress.advance);
      phase(`check ${kind}`);
      if (kind === 'categories') {
        await db.query(sql.CHECK_CATEGORIES);
        phase('load categories');
        summary.categories = (await db.query(sql.LOAD_CATEGORIES)).rowCount;
        await db.query(sql.ADVANCE_CATEGORY_IDS);
      } else {
        await db.query(sql.CHECK_PRODUCTS);
        phase('load products');
        summary.products =
          staged >= bulkProducts
            ? await loadProductsInBulk(
                db,
                async () => (await db.query(sql.LOAD_PRODUCTS('computed'))).rowCount,
                phase,
              )
            : (await db.query(sql.LOAD_PRODUCTS('by trigger'))).rowCount;
      }
      phase(`rejects of ${kind}`);
      const { total, rejects } = await rejectsOf(db, `${spec.table}_checked`, `${kind}.csv`);
      summary.rejected += total;
      summary.rejects.push(...rejects);
      if (kind === 'products') await db.query(sql.DROP_PRODUCTS_STAGING);
    }
  } finally {
    progress.stop();
  }
  // Every catalog answer cached anywhere is replaced: bumped by a job once this commits (a running server with
  // the L1 alone, or one whose Redis missed the import's own bump after the commit, serves the new catalog then).
  await recordInvalidation(db, catalogDeps());
  clock.start('analyze');
  await db.query('ANALYZE products');
  clock.start('commit');
  return summary;
}

/** Imports DIR in one transaction: on PostgreSQL over a connection of its own, on PGlite through db. */
export async function importCatalog(
  db: Database,
  dir: string,
  options: {
    databaseUrl: string | null;
    /** From this many staged products, the bulk load (BULK_PRODUCTS; tests take it lower). */
    bulkProducts?: number;
  },
): Promise<ImportSummary> {
  const bulkProducts = options.bulkProducts ?? BULK_PRODUCTS;
  const started = performance.now();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImportError(`${dir} is not a directory`);
  const clock = phaseClock();
  let summary: Omit<ImportSummary, 'seconds' | 'phases'>;
  if (options.databaseUrl === null) {
    summary = await db.transaction((tx) => run(tx, dir, batchStaging(tx), clock, bulkProducts));
  } else {
    const client = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: 'bazaar-import',
    });
    await client.connect();
    const session: Queryable = {
      query: async <R>(text: string, params?: readonly unknown[]) => {
        const result = await client.query(text, params as unknown[] | undefined);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      },
    };
    try {
      await session.query('BEGIN');
      summary = await run(session, dir, copyStaging(client), clock, bulkProducts);
      await session.query('COMMIT');
    } catch (error) {
      await session.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      await client.end();
    }
  }
  clock.end();
  return {
    ...summary,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    phases: clock.phases,
  };
}
