import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two validators: URLs carry only strings, so params, query strings and headers are coerced to the declared
 * types ("?limit=20" becomes 20); a JSON body is taken exactly as sent, so `{"name": 5}` for a string is a 400.
 * Neither removes unknown properties: a schema with additionalProperties false refuses them.
 */
const COMMON: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false };

function createAjv(coerce: boolean) {
  const ajv = new Ajv.default({ ...COMMON, coerceTypes: coerce ? 'array' : false });
  addFormats.default(ajv);
  return ajv;
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const exact = createAjv(false);
  const coercing = createAjv(true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema as object);
}
