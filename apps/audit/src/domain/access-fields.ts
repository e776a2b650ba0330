/**
 * The indexed columns of an access record (`jamey.audit.v1.AccessRecord`): who did what to
 * which resource, and how it ended. They are derived from the payload's canonical JSON, which
 * the Merkle leaf covers, so `VerifyLog` re-derives them and a changed column is detected like
 * a changed record.
 */

/** The payload message whose records get access columns. */
export const ACCESS_RECORD_SCHEMA = 'jamey.audit.v1.AccessRecord';

/**
 * How an access ended (`jamey.audit.v1.AccessOutcome`, lower-case without its prefix):
 * - `allowed`: authenticated, authorized and answered (HTTP 2xx/3xx, gRPC OK);
 * - `unauthenticated`: no credential, or one that did not verify (HTTP 401, gRPC UNAUTHENTICATED);
 * - `denied`: a verified caller without the right (HTTP 403 missing scope, gRPC PERMISSION_DENIED);
 * - `throttled`: refused by a rate limit (HTTP 429, gRPC RESOURCE_EXHAUSTED from a limiter);
 * - `failed`: let in, but the request was refused for what it asked (other 4xx, INVALID_ARGUMENT, NOT_FOUND …);
 * - `error`: let in, and the server failed (5xx, INTERNAL, UNAVAILABLE …).
 */
export const ACCESS_OUTCOMES = ['allowed', 'unauthenticated', 'denied', 'throttled', 'failed', 'error'] as const;
export type AccessOutcome = (typeof ACCESS_OUTCOMES)[number];

/** Whether `value` names an {@link AccessOutcome}. */
export function isAccessOutcome(value: string): value is AccessOutcome {
  return (ACCESS_OUTCOMES as readonly string[]).includes(value);
}

/** The access columns of one record; all null for records that are not access records. */
export interface AccessFields {
  readonly actor: string | null;
  readonly action: string | null;
  readonly resource: string | null;
  readonly outcome: AccessOutcome | null;
}

/** The columns of a record that is not an access record (and of every record stored before them). */
export const NO_ACCESS_FIELDS: AccessFields = Object.freeze({ actor: null, action: null, resource: null, outcome: null });

/**
 * Longest value kept in an access column, in characters. Longer values (an attacker's user
 * agent or path, say) are cut, so no payload can make the index entry too large for Postgres
 * (a failed insert would stall the consumer until the record is dead-lettered). The full value
 * stays in `data_json`.
 */
export const ACCESS_COLUMN_MAX_CHARS = 256;

const OUTCOME_PREFIX = 'ACCESS_OUTCOME_';

/** Cuts to {@link ACCESS_COLUMN_MAX_CHARS} code points, replacing NUL (which Postgres text refuses). */
function column(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const points = Array.from(value.replaceAll('\u0000', '\uFFFD'));
  return points.length > ACCESS_COLUMN_MAX_CHARS ? points.slice(0, ACCESS_COLUMN_MAX_CHARS).join('') : points.join('');
}

/** `ACCESS_OUTCOME_DENIED` (or its number, from a newer producer) to `denied`; anything else null. */
function outcomeOf(value: unknown): AccessOutcome | null {
  if (typeof value !== 'string' || !value.startsWith(OUTCOME_PREFIX)) return null;
  const name = value.slice(OUTCOME_PREFIX.length).toLowerCase();
  return isAccessOutcome(name) ? name : null;
}

/**
 * The access columns of a record, from its payload schema and canonical JSON (ts-proto's
 * `toJSON`: camelCase fields, enums by name, default values left out). Not an access record,
 * no JSON (schema unknown to the build that stored it), or JSON that does not parse: all null.
 */
export function accessFieldsOf(dataSchema: string, dataJson: string | null): AccessFields {
  if (dataSchema !== ACCESS_RECORD_SCHEMA || dataJson === null) return NO_ACCESS_FIELDS;
  let data: unknown;
  try {
    data = JSON.parse(dataJson);
  } catch {
    return NO_ACCESS_FIELDS;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return NO_ACCESS_FIELDS;
  const payload = data as Record<string, unknown>;
  return {
    actor: column(payload['actor']),
    action: column(payload['action']),
    resource: column(payload['resource']),
    outcome: outcomeOf(payload['outcome']),
  };
}

/** Whether two sets of access columns are the same. */
export function sameAccessFields(a: AccessFields, b: AccessFields): boolean {
  return a.actor === b.actor && a.action === b.action && a.resource === b.resource && a.outcome === b.outcome;
}
