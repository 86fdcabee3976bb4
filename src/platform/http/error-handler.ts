import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isConnectionError } from '../db/index.js';
import { AppError, type ErrorCode, type FieldError, problemOf } from './errors.js';

/** Fastify's own 4xx errors, mapped onto the catalogue; anything unknown is a 500 whose details stay in the log. */
const FASTIFY_CODES: Record<number, ErrorCode> = {
  400: 'validation',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

function validationErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((issue) => {
    const missing = (issue.params as { missingProperty?: string }).missingProperty;
    const extra = (issue.params as { additionalProperty?: string }).additionalProperty;
    const base = `${error.validationContext ?? 'body'}${issue.instancePath.replaceAll('/', '.')}`;
    if (missing) return { path: `${base}.${missing}`, message: 'is required' };
    if (extra) return { path: `${base}.${extra}`, message: 'is not allowed' };
    return { path: base, message: issue.message ?? 'is invalid' };
  });
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
) {
  const problem = { ...problemOf(code, detail, errors), request_id: request.id };
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      if (error.headers) reply.headers(error.headers);
      return sendProblem(request, reply, error.code, error.detail, error.errors);
    }
    if (error.validation) {
      const errors = validationErrors(error);
      const detail = errors.map((item) => `${item.path} ${item.message}`).join('; ');
      return sendProblem(request, reply, 'validation', detail, errors);
    }
    const status = error.statusCode ?? 500;
    const code = FASTIFY_CODES[status];
    if (status < 500 && code !== undefined) {
      return sendProblem(request, reply, code, error.message);
    }
    if (isConnectionError(error)) {
      // The database is down or restarting: the same request may well succeed in a moment.
      request.log.warn({ err: error }, 'database unavailable');
      reply.header('retry-after', '1');
      return sendProblem(request, reply, 'unavailable', 'The database is unavailable; retry shortly');
    }
    request.log.error({ err: error }, 'request failed');
    return sendProblem(
      request,
      reply,
      code === 'unavailable' ? 'unavailable' : 'internal',
      'The server could not complete the request; it has been logged',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}`),
  );
}
