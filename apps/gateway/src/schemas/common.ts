import { Type, type TSchema, type TUnsafe } from 'typebox';

/**
 * A string enum as plain `{ type: 'string', enum: [...] }`, which reads better in OpenAPI than
 * TypeBox's `anyOf` of literals and serializes with fast-json-stringify.
 */
export function stringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** An ISO-8601 UTC timestamp, for example `2026-01-01T00:00:00.000Z`. */
export const IsoTime = (description?: string) =>
  Type.String({ format: 'date-time', ...(description === undefined ? {} : { description }) });

/** Entity ids chosen by callers: 1..128 characters of `[A-Za-z0-9._:-]` (soul.proto). */
export const ENTITY_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

/** Path parameters of routes addressing a memory. */
export const MemoryIdParams = Type.Object(
  { id: Type.String({ format: 'uuid', description: 'The memory id (UUIDv7).' }) },
  { additionalProperties: false },
);

/** Path parameters of routes addressing an entity. */
export const EntityIdParams = Type.Object(
  { id: Type.String({ pattern: ENTITY_ID_PATTERN, description: 'Caller-chosen entity id: 1..128 characters of [A-Za-z0-9._:-].' }) },
  { additionalProperties: false },
);

/** `pageToken` query parameter: an opaque cursor from a previous page's `nextPageToken`. */
export const PageToken = Type.String({ minLength: 1, maxLength: 2048, description: 'Cursor from a previous page; omit for the first page.' });

/** `pageSize` query parameter bounded by `max`; 0 or absent means the service's default. */
export const PageSize = (max: number) =>
  Type.Integer({ minimum: 0, maximum: max, description: `Items per page, 0..${max}; 0 or absent means the service default.` });

/** `nextPageToken` of a list response: absent on the last page. */
export const NextPageToken = Type.Optional(Type.String({ description: 'Cursor of the next page; absent on the last page.' }));

/**
 * A success response schema with its OpenAPI description and documented headers. The copy
 * keeps the schema's static type; @fastify/swagger moves `description` and `headers` into the
 * response object.
 */
export function described<T extends TSchema>(schema: T, description: string, headers?: Readonly<Record<string, { type: 'string'; description: string }>>): T {
  return { ...schema, description, ...(headers === undefined ? {} : { headers }) } as T;
}

/** The documented `Location` header of a 201 response. */
export const LOCATION_HEADER = { location: { type: 'string', description: 'The path of the created resource.' } } as const;

/** The query of a route that takes no query parameters: any parameter is rejected. */
export const NoQuery = Type.Object({}, { additionalProperties: false });
