import { invalidArgument } from '@jamey/core';

/**
 * Shared helpers for proto ↔ JSON mapping. A downstream answer that breaks its own contract
 * (a required message or time missing, an unknown enum value) is a bug, not bad input: it
 * throws a plain Error, which the gateway's error handler turns into a logged, generic 500.
 */

/** Returns `value`, or throws when a downstream left out something its contract promises. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`downstream response lacks ${what}`);
  return value;
}

/** A required proto timestamp as an ISO-8601 UTC string. */
export function isoTime(value: Date | undefined, what: string): string {
  return required(value, what).toISOString();
}

/** An optional proto timestamp as an ISO-8601 UTC string, or undefined when unset. */
export function optionalIsoTime(value: Date | undefined): string | undefined {
  return value?.toISOString();
}

/** The range of a `google.protobuf.Timestamp`: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const TIMESTAMP_MIN_MS = Date.parse('0001-01-01T00:00:00Z');
const TIMESTAMP_MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An ISO-8601 string from a validated request as a proto timestamp; undefined when absent. The
 * JSON schema accepts any RFC 3339 date-time, including ones an offset pushes out of the
 * Timestamp range (`0001-01-01T00:00:00+01:00` is in year 0).
 * @throws INVALID_ARGUMENT naming `field` for such a time
 */
export function timeFromJson(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (!(time >= TIMESTAMP_MIN_MS && time <= TIMESTAMP_MAX_MS)) {
    throw invalidArgument(field, `${field} must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z`);
  }
  return new Date(time);
}

/** A proto3 string where empty means unset, as an optional JSON member. */
export function nonEmpty(value: string): string | undefined {
  return value === '' ? undefined : value;
}

/** A cursor request from validated query parameters (0 and empty mean "service default"). */
export function pageRequest(pageSize: number | undefined, pageToken: string | undefined): { pageSize: number; pageToken: string } {
  return { pageSize: pageSize ?? 0, pageToken: pageToken ?? '' };
}

/** The `nextPageToken` of a list response: absent on the last page. */
export function nextPageToken(page: { nextPageToken: string } | undefined): string | undefined {
  return nonEmpty(page?.nextPageToken ?? '');
}

/**
 * Builds a two-way mapping between a proto enum and lowercase JSON names. Unknown proto values
 * break the downstream's contract and throw.
 */
export function enumMapping<Name extends string, Value extends number>(enumName: string, pairs: Readonly<Record<Name, Value>>) {
  const byValue = new Map<number, Name>(Object.entries(pairs).map(([name, value]) => [value as number, name as Name]));
  return {
    toProto: (name: Name): Value => pairs[name],
    fromProto: (value: number): Name => {
      const name = byValue.get(value);
      if (name === undefined) throw new Error(`downstream sent ${enumName} value ${value}, which the gateway does not know`);
      return name;
    },
  };
}
