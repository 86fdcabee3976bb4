import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, it } from 'node:test';
import sharp from 'sharp';
import { IMAGE_JOB } from '../../src/modules/images/service.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { forEachEngine } from '../helpers/engines.js';
import { insertCategory, insertProduct } from '../helpers/fixtures.js';

/** A multipart/form-data body with one file part. */
function form(filename: string, bytes: Buffer, contentType = 'application/octet-stream') {
  const boundary = `----bazaar${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const picture = (format: 'jpeg' | 'png' | 'webp', width = 1200, height = 700) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 90, b: 40 } } })
    .composite([
      {
        input: {
          create: { width: width / 2, height: height / 2, channels: 3, background: { r: 20, g: 20, b: 90 } },
        },
        top: 0,
        left: 0,
      },
    ])
    [format]()
    .toBuffer();

forEachEngine('product images', (ctx) => {
  let t: TestApp;
  let productId: number;
  let manager: string;

  before(async () => {
    t = await buildTestApp(ctx.db);
    productId = await insertProduct(ctx.db, { categoryId: await insertCategory(ctx.db, 'Lamps') });
    manager = `Bearer ${t.tokenFor({ id: 1, role: 'manager' })}`;
  });
  after(() => t.close());

  const upload = (bytes: Buffer, filename: string, id = productId, authorization = manager) =>
    t.app.inject({
      method: 'POST',
      url: `/api/products/${id}/images/`,
      ...(() => {
        const { body, headers } = form(filename, bytes);
        return { payload: body, headers: { ...headers, authorization } };
      })(),
    });

  /** Runs the image jobs queued so far through the app's registered handler, as a worker would. */
  async function runImageJobs() {
    const definition = t.app.jobs.definition(IMAGE_JOB);
    if (!definition) throw new Error('image.thumbnail is not registered');
    const { rows } = await ctx.db.query<{ id: number; payload: unknown }>(
      `DELETE FROM outbox_jobs WHERE type = $1 RETURNING id, payload`,
      [IMAGE_JOB],
    );
    for (const job of rows) {
      await definition.run(job.payload, { id: job.id, attempt: 1 });
      await definition.run(job.payload, { id: job.id, attempt: 2 });
    }
    return rows.length;
  }

  for (const format of ['jpeg', 'png', 'webp'] as const) {
    it(`turns a ${format.toUpperCase()} into 268x200 JPEG and WebP thumbnails served with a long cache`, async () => {
      const response = await upload(await picture(format), `photo.${format}`);
      assert.equal(response.statusCode, 202, response.body);
      const { id, status } = response.json() as { id: number; status: string };
      assert.equal(status, 'processing');
      assert.equal(await runImageJobs(), 1);

      const product = (await t.app.inject({ url: `/api/products/${productId}/` })).json() as {
        images: { id: number; status: string; url: string; thumbnail_url: string }[];
      };
      const image = product.images.find((item) => item.id === id);
      assert.equal(image?.status, 'ready');
      const { rows } = await ctx.db.query<{ thumbnail_path: string; thumbnail_webp_path: string }>(
        'SELECT thumbnail_path, thumbnail_webp_path FROM product_images WHERE id = $1',
        [id],
      );
      const row = rows[0] as { thumbnail_path: string; thumbnail_webp_path: string };
      for (const [file, expected] of [
        [row.thumbnail_path, 'jpeg'],
        [row.thumbnail_webp_path, 'webp'],
      ] as const) {
        const meta = await sharp(await readFile(path.join(t.dataDir, 'media', file))).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], [expected, 268, 200]);
      }

      const served = await t.app.inject({ url: image?.thumbnail_url as string });
      assert.equal(served.statusCode, 200);
      assert.equal(served.headers['content-type'], 'image/jpeg');
      assert.match(String(served.headers['cache-control']), /max-age=31536000.*immutable/);
      const original = await t.app.inject({ url: image?.url as string });
      assert.equal(original.statusCode, 200);
    });
  }

  it('refuses a text file named .jpg with 415 and stores nothing', async () => {
    const response = await upload(Buffer.from('just some text, not a picture\n'), 'photo.jpg');
    assert.equal(response.statusCode, 415, response.body);
    assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(await runImageJobs(), 0);
  });

  it('refuses an 11 MB file with 413', async () => {
    const big = Buffer.concat([await picture('png', 64, 64), Buffer.alloc(11 * 1024 * 1024, 7)]);
    const response = await upload(big, 'huge.png');
    assert.equal(response.statusCode, 413, response.body);
    assert.equal(await runImageJobs(), 0);
  });

  it('marks a corrupt image failed without failing the job', async () => {
    const jpeg = await picture('jpeg');
    const corrupt = Buffer.concat([jpeg.subarray(0, 200), Buffer.alloc(5_000, 0x41)]);
    const response = await upload(corrupt, 'broken.jpg');
    assert.equal(response.statusCode, 202, response.body);
    const { id } = response.json() as { id: number };
    assert.equal(await runImageJobs(), 1);
    const { rows } = await ctx.db.query<{ status: string; failure_reason: string | null }>(
      'SELECT status, failure_reason FROM product_images WHERE id = $1',
      [id],
    );
    assert.equal(rows[0]?.status, 'failed');
    assert.ok(rows[0]?.failure_reason);
  });

  it('answers 404 for an unknown product, 403 for a customer, 401 without a token, 415 without multipart', async () => {
    const png = await picture('png', 32, 32);
    assert.equal((await upload(png, 'a.png', 999_999)).statusCode, 404);
    const customer = `Bearer ${t.tokenFor({ id: 2, role: 'customer' })}`;
    assert.equal((await upload(png, 'a.png', productId, customer)).statusCode, 403);
    const anonymous = await t.app.inject({ method: 'POST', url: `/api/products/${productId}/images/` });
    assert.equal(anonymous.statusCode, 401);
    const json = await t.app.inject({
      method: 'POST',
      url: `/api/products/${productId}/images/`,
      headers: { authorization: manager },
      payload: { url: 'x' },
    });
    assert.equal(json.statusCode, 415, json.body);
    assert.equal(await runImageJobs(), 0);
  });
});
