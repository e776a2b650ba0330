import { createHash } from 'node:crypto';
import { assertStorableText, invalidArgument } from '@jamey/core';
import { ACCESS_OUTCOMES, isAccessOutcome, type AccessFields, type AccessOutcome } from './access-fields.js';

/**
 * One event as the audit log keeps it. `actor`, `action`, `resource` and `outcome` are set for
 * access records (`jamey.audit.v1.AccessRecord`) and null for every other record.
 */
export interface AuditRecord extends AccessFields {
  /** Position in the log, starting at 1, without gaps. */
  readonly sequence: number;
  /** The event id (UUIDv7). */
  readonly eventId: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly eventTime: Date;
  /** When audit stored the event (audit's clock). */
  readonly recordTime: Date;
  readonly traceparent: string;
  readonly dataSchema: string;
  /** The payload as canonical protobuf JSON; null when the schema is unknown to this build. */
  readonly dataJson: string | null;
  /** The Kafka topic (or in-process topic) the event arrived on. */
  readonly topic: string;
}

/**
 * What the consumer hands the audit log for one event. The access columns are derived from the
 * payload as the repository stores it (`accessFieldsOf`), so no caller can set them apart from it.
 */
export interface AuditEntry extends Omit<AuditRecord, 'sequence' | 'recordTime' | keyof AccessFields> {
  /** The envelope exactly as it arrived, kept for tamper-evidence. */
  readonly envelope: Uint8Array;
}

/** Filters of a records query; absent means "any". */
export interface RecordFilter {
  readonly type?: string | undefined;
  readonly source?: string | undefined;
  readonly subject?: string | undefined;
  /** Access records only: the user subject or calling service. */
  readonly actor?: string | undefined;
  /** Access records only: `GET /v1/memories` or a gRPC method path. */
  readonly action?: string | undefined;
  /** Access records only. */
  readonly resource?: string | undefined;
  /** Access records only; one of {@link ACCESS_OUTCOMES}. */
  readonly outcome?: AccessOutcome | undefined;
  /** Inclusive lower bound on event time. */
  readonly startTime?: Date | undefined;
  /** Exclusive upper bound on event time. */
  readonly endTime?: Date | undefined;
}

/** Limits of {@link AuditRecord} queries. */
export const AUDIT_LIMITS = Object.freeze({
  defaultPageSize: 50,
  maxPageSize: 500,
  filterMaxChars: 256,
});

/** A records filter as the API receives it: `outcome` is any text until validated. */
export type RecordFilterInput = Omit<RecordFilter, 'outcome'> & { readonly outcome?: string | undefined };

/**
 * Validates a records filter: text filters are bounded, `outcome` is one of
 * {@link ACCESS_OUTCOMES}, and the time range is not empty. Blank text means "any".
 * @throws INVALID_ARGUMENT naming the field
 */
export function validateFilter(filter: RecordFilterInput): RecordFilter {
  const text = (field: 'type' | 'source' | 'subject' | 'actor' | 'action' | 'resource' | 'outcome'): string | undefined => {
    const value = filter[field]?.trim();
    if (value === undefined || value === '') return undefined;
    assertStorableText(field, value);
    if (value.length > AUDIT_LIMITS.filterMaxChars) {
      throw invalidArgument(field, `${field} must be at most ${AUDIT_LIMITS.filterMaxChars} characters`);
    }
    return value;
  };
  const { startTime, endTime } = filter;
  if (startTime && Number.isNaN(startTime.getTime())) throw invalidArgument('start_time', 'start_time is not a valid time');
  if (endTime && Number.isNaN(endTime.getTime())) throw invalidArgument('end_time', 'end_time is not a valid time');
  if (startTime && endTime && startTime.getTime() >= endTime.getTime()) {
    throw invalidArgument('end_time', 'end_time must be after start_time');
  }
  const outcome = text('outcome');
  if (outcome !== undefined && !isAccessOutcome(outcome)) {
    throw invalidArgument('outcome', `outcome must be one of ${ACCESS_OUTCOMES.join(', ')}`);
  }
  return {
    type: text('type'),
    source: text('source'),
    subject: text('subject'),
    actor: text('actor'),
    action: text('action'),
    resource: text('resource'),
    outcome,
    startTime,
    endTime,
  };
}

/** Clamps a requested page size: 0 means the default, larger values are capped. */
export function pageSize(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) throw invalidArgument('page_size', 'page_size must be a non-negative integer');
  return requested === 0 ? AUDIT_LIMITS.defaultPageSize : Math.min(requested, AUDIT_LIMITS.maxPageSize);
}

/**
 * A digest of a validated filter: the page token carries it, so a token is only good for the
 * query that issued it. 16 bytes of SHA-256 over the filter's fields in a fixed order.
 */
export function filterDigest(filter: RecordFilter): string {
  const fields = [
    filter.type,
    filter.source,
    filter.subject,
    filter.actor,
    filter.action,
    filter.resource,
    filter.outcome,
    filter.startTime?.toISOString(),
    filter.endTime?.toISOString(),
  ];
  // JSON keeps "absent" (null) apart from every string and needs no escaping rules of its own.
  return createHash('sha256')
    .update(JSON.stringify(fields.map((field) => field ?? null)))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

const CURSOR_VERSION = 'a2';
const CURSOR = /^a2\.([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})$/;
const notIssued = () => invalidArgument('page_token', 'page_token is not a token this service issued');

/**
 * Encodes the last sequence of a page, and the digest of the filter it was read with, as an
 * opaque, URL-safe page token. Paging by sequence is stable under concurrent appends: sequences
 * are dense and follow commit order, so later records only ever come after the cursor.
 *
 * The token is not signed. It grants nothing: whoever holds one may run the same query from
 * the start anyway. It is validated (format, bounds) and bound to its filter, so a token cannot
 * be reused with another filter by mistake.
 */
export function encodeCursor(lastSequence: number, filter: RecordFilter): string {
  return Buffer.from(`${CURSOR_VERSION}.${lastSequence}.${filterDigest(filter)}`, 'utf8').toString('base64url');
}

/**
 * Decodes a page token into the sequence to continue after; an empty token is the first page (0).
 * @throws INVALID_ARGUMENT (`page_token`) for a token this service did not issue, or one issued
 * for another filter
 */
export function decodeCursor(token: string, filter: RecordFilter): number {
  if (token === '') return 0;
  if (token.length > 128) throw notIssued();
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const match = CURSOR.exec(text);
  const sequence = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(sequence)) throw notIssued();
  if (match[2] !== filterDigest(filter)) {
    throw invalidArgument('page_token', 'page_token belongs to a query with other filters; start again without it');
  }
  return sequence;
}
