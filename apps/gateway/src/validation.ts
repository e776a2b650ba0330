import { Ajv, type Options } from 'ajv';
import formats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * The gateway's request validator compiler. Unlike Fastify's default it never removes unknown
 * members (they are rejected, because `additionalProperties: false` must mean it) and never
 * coerces JSON bodies: `"0.5"` is not a number. Path and query parameters arrive as strings,
 * so they are coerced, as Fastify does.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: true };
  // ajv-formats is CommonJS; under NodeNext its default import is the module, whose `default` is the plugin.
  const strict = formats.default(new Ajv({ ...common, coerceTypes: false }));
  const coercing = formats.default(new Ajv({ ...common, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
