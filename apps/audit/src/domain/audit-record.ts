import { assertStorableText, invalidArgument } from '@jamey/core';

/** One event as the audit log keeps it. */
export interface AuditRecord {
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

/** What the consumer hands the audit log for one event. */
export interface AuditEntry extends Omit<AuditRecord, 'sequence' | 'recordTime'> {
  /** The envelope exactly as it arrived, kept for tamper-evidence. */
  readonly envelope: Uint8Array;
}

/** Filters of a records query; absent means "any". */
export interface RecordFilter {
  readonly type?: string | undefined;
  readonly source?: string | undefined;
  readonly subject?: string | undefined;
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

/** Validates a records filter: text filters are bounded, and the time range is not empty. */
export function validateFilter(filter: RecordFilter): RecordFilter {
  const text = (field: 'type' | 'source' | 'subject'): string | undefined => {
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
  return { type: text('type'), source: text('source'), subject: text('subject'), startTime, endTime };
}

/** Clamps a requested page size: 0 means the default, larger values are capped. */
export function pageSize(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) throw invalidArgument('page_size', 'page_size must be a non-negative integer');
  return requested === 0 ? AUDIT_LIMITS.defaultPageSize : Math.min(requested, AUDIT_LIMITS.maxPageSize);
}

const CURSOR_PREFIX = 'a1:';

/** Encodes the last sequence of a page as an opaque, URL-safe page token. */
export function encodeCursor(lastSequence: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${lastSequence}`, 'utf8').toString('base64url');
}

/** Decodes a page token into the sequence to continue after; an empty token is the first page (0). */
export function decodeCursor(token: string): number {
  if (token === '') return 0;
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const match = /^a1:([1-9][0-9]{0,15})$/.exec(text);
  const sequence = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(sequence)) throw invalidArgument('page_token', 'page_token is not a token this service issued');
  return sequence;
}
