import { randomUUID } from 'node:crypto';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { type Database, PgErrorCode, pgErrorCode } from '../../platform/db/index.js';
import { AppError } from '../../platform/http/errors.js';
import { enqueue } from '../../platform/jobs/outbox.js';
import type { JobRegistry } from '../../platform/jobs/registry.js';
import type { CatalogService } from '../catalog/service.js';
import * as repo from './repo.js';
import { EXTENSIONS, sniffImageType } from './sniff.js';

export const IMAGE_JOB = 'image.thumbnail';
export const THUMBNAIL = { width: 268, height: 200 } as const;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/**
 * sharp (libvips) is loaded by the first thumbnail, not at start: importing it costs a process 28 MB of resident
 * memory, and most API processes never resize an image (workers do).
 */
let loadingSharp: Promise<typeof import('sharp')> | null = null;
async function loadSharp() {
  if (loadingSharp === null) loadingSharp = import('sharp');
  return (await loadingSharp).default;
}

/** Pixels sharp agrees to decode: a 10 MB "decompression bomb" cannot make the worker allocate gigabytes. */
const MAX_INPUT_PIXELS = 50_000_000;

export interface ImagesDeps {
  db: Database;
  catalog: Pick<CatalogService, 'getProduct' | 'invalidateProducts'>;
  /** DATA_DIR/media: originals and thumbnails live under products/<product id>/. */
  mediaDir: string;
}

export function createImagesService({ db, catalog, mediaDir }: ImagesDeps) {
  const write = async (relative: string, bytes: Buffer) => {
    await mkdir(path.dirname(path.join(mediaDir, relative)), { recursive: true });
    await writeFile(path.join(mediaDir, relative), bytes);
  };

  return {
    /** Stores the original and queues its thumbnails in the transaction that records the image. */
    async upload(productId: number, bytes: Buffer) {
      const contentType = sniffImageType(bytes);
      if (contentType === null) {
        throw new AppError('unsupported_media_type', 'The file is not a JPEG, PNG or WebP image');
      }
      await catalog.getProduct(productId);
      const originalPath = `products/${productId}/${randomUUID()}.${EXTENSIONS[contentType]}`;
      await write(originalPath, bytes);
      try {
        const id = await db.transaction(async (tx) => {
          const imageId = await repo.insertImage(tx, { productId, contentType, originalPath });
          await enqueue(tx, IMAGE_JOB, { image_id: imageId });
          return imageId;
        });
        await catalog.invalidateProducts([productId]);
        return { id, status: 'processing' as const };
      } catch (error) {
        await unlink(path.join(mediaDir, originalPath)).catch(() => {});
        if (pgErrorCode(error) === PgErrorCode.foreignKeyViolation) {
          throw new AppError('not_found', `Product ${productId} does not exist`);
        }
        throw error;
      }
    },

    /**
     * The image job: a 268x200 cover crop as JPEG and WebP. Idempotent (a ready image is left alone; rerunning
     * rewrites the same files). A file sharp cannot decode marks the image failed and the job succeeds, so a
     * corrupt upload costs one attempt, never a retry storm or the worker.
     */
    async makeThumbnails(imageId: number) {
      const image = await repo.findImage(db, imageId);
      if (image === null) return;
      if (image.status !== 'processing') {
        // A rerun after the image was settled: the run that settled it may have died before its bump below.
        await catalog.invalidateProducts([image.product_id]);
        return;
      }
      const original = await readFile(path.join(mediaDir, image.original_path));
      const sharp = await loadSharp();
      let jpeg: Buffer;
      let webp: Buffer;
      try {
        const cropped = sharp(original, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS })
          .rotate()
          .resize(THUMBNAIL.width, THUMBNAIL.height, { fit: 'cover', position: 'attention' });
        [jpeg, webp] = await Promise.all([
          cropped.clone().jpeg({ quality: 82, mozjpeg: true }).toBuffer(),
          cropped.clone().webp({ quality: 80 }).toBuffer(),
        ]);
      } catch (error) {
        await repo.markFailed(db, imageId, error instanceof Error ? error.message : String(error));
        await catalog.invalidateProducts([image.product_id]);
        return;
      }
      const base = `products/${image.product_id}/${imageId}-${THUMBNAIL.width}x${THUMBNAIL.height}`;
      await write(`${base}.jpg`, jpeg);
      await write(`${base}.webp`, webp);
      await repo.markReady(db, imageId, { jpeg: `${base}.jpg`, webp: `${base}.webp` });
      // The product's detail lists its images, and list pages show the first ready thumbnail.
      await catalog.invalidateProducts([image.product_id]);
    },
  };
}

export type ImagesService = ReturnType<typeof createImagesService>;

export function registerImageJobs(registry: JobRegistry, images: ImagesService): void {
  registry.register(IMAGE_JOB, Type.Object({ image_id: Type.Integer() }), ({ image_id }) =>
    images.makeThumbnails(image_id),
  );
}
