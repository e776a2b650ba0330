import { Type, type Static } from 'typebox';

/** The `$id` the problem schema is registered under; OpenAPI names it `Problem`. */
export const PROBLEM_SCHEMA_ID = 'Problem';

/** The media type of every error response (RFC 9457). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** One violation listed in a problem's `errors` member. */
export const ProblemViolation = Type.Object(
  {
    field: Type.Optional(Type.String({ description: 'The offending field, for example `body.salience` (see docs/errors.md).' })),
    message: Type.String(),
  },
  { additionalProperties: false },
);

/**
 * An RFC 9457 problem details object with Jamey's extension members. Registered once with
 * `addSchema` and referenced by every route's error responses.
 */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri', description: 'Stable problem type, `https://jamey.io/problems/<kebab-case code>`.' }),
    title: Type.String({ description: 'Short summary of the problem type; the same for every occurrence.' }),
    status: Type.Integer({ minimum: 400, maximum: 599, description: 'The HTTP status code.' }),
    detail: Type.String({ description: 'What went wrong in this occurrence. Generic for internal errors.' }),
    instance: Type.String({ description: 'The request path.' }),
    code: Type.String({ description: 'The stable error code, for example `INVALID_ARGUMENT`.' }),
    field: Type.Optional(Type.String({ description: 'The first offending request field, for example `body.salience`.' })),
    errors: Type.Optional(Type.Array(ProblemViolation, { description: 'Every violation found.' })),
    dependency: Type.Optional(Type.String({ description: 'The service that was unavailable or too slow.' })),
    resource: Type.Optional(Type.String({ description: 'The kind of resource that was not found.' })),
  },
  { $id: PROBLEM_SCHEMA_ID, title: 'Problem', additionalProperties: false },
);

/** A problem details body as sent. */
export type Problem = Static<typeof ProblemSchema>;

const DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'The request is invalid: a body, path or query field failed validation, or the JSON is malformed.',
  401: 'No valid bearer token: see the `WWW-Authenticate` header.',
  403: 'The token lacks a scope this operation needs: see `WWW-Authenticate` (`scope`).',
  404: 'The resource does not exist.',
  413: 'The request body is larger than the configured limit.',
  415: 'The request body is not `application/json`.',
  429: 'This client sent too many requests: wait `Retry-After` seconds (see the `RateLimit-*` headers).',
  431: 'The request line and headers are larger than the server accepts (16 KiB).',
  500: 'An unexpected error. Details are logged, never returned.',
  503: 'A downstream service is unavailable; see `dependency` and the `Retry-After` header.',
  504: 'A downstream service did not answer within the request deadline.',
};

/** Error responses every route can produce (every `/v1` route is rate limited). */
const ALWAYS = [400, 429, 431, 500, 503, 504] as const;

/**
 * OpenAPI/Fastify response entries for problem+json errors: the statuses every route can
 * produce plus `extra` (for example 404 for routes addressing a resource, 413 and 415 for
 * routes with a body). The schema is used to serialize the problem and to document it.
 */
export function problemResponses(...extra: readonly number[]) {
  const statuses = [...new Set([...ALWAYS, ...extra])].sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? 'Error.',
        content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: `${PROBLEM_SCHEMA_ID}#` } } },
      },
    ]),
  );
}
