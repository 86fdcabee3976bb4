import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/http/errors.js';
import { IdParam, problems } from '../../platform/http/schemas.js';
import type { HttpServer } from '../../platform/http/server.js';
import { type ImagesService, MAX_IMAGE_BYTES } from './service.js';

const ImageAccepted = Type.Object(
  { id: Type.Integer(), status: Type.Literal('processing') },
  { additionalProperties: false },
);

/** Reads the one file of a multipart body into memory (at most MAX_IMAGE_BYTES); anything else is a 4xx. */
async function readSingleFile(request: FastifyRequest): Promise<Buffer> {
  if (!request.isMultipart()) {
    throw new AppError('unsupported_media_type', 'Send the image as multipart/form-data with one file part');
  }
  let file: Buffer | null = null;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') throw new AppError('validation', `Unexpected form field "${part.fieldname}"`);
      if (file !== null) throw new AppError('validation', 'Send exactly one file per request');
      file = await part.toBuffer();
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new AppError('payload_too_large', `An image may be at most ${MAX_IMAGE_BYTES / 1024 / 1024} MB`);
    }
    throw error;
  }
  if (file === null) throw new AppError('validation', 'The form holds no file');
  return file;
}

export async function imageRoutes(app: HttpServer, { images }: { images: ImagesService }) {
  await app.register(multipart, { limits: { fileSize: MAX_IMAGE_BYTES, files: 2, fields: 5, parts: 6 } });

  app.post(
    '/api/products/:id/images/',
    {
      config: { auth: 'manager' },
      schema: {
        tags: ['catalog'],
        summary:
          'Upload one JPEG, PNG or WebP (multipart, at most 10 MB); thumbnails follow in the background',
        consumes: ['multipart/form-data'],
        params: IdParam,
        response: { 202: ImageAccepted, ...problems(400, 401, 403, 404, 413, 415) },
      },
    },
    async (request, reply) => {
      const bytes = await readSingleFile(request);
      return reply.code(202).send(await images.upload(request.params.id, bytes));
    },
  );
}
