import type { Clock } from '@jamey/core';
import type { Queryable } from '@jamey/data';
import {
  decodeCursor,
  encodeCursor,
  pageSize,
  validateFilter,
  type AuditEntry,
  type AuditRecord,
  type RecordFilter,
  type RecordFilterInput,
} from './audit-record.js';

/** Where the audit log lives. Implemented by the Postgres adapter. */
export interface AuditRepository {
  /**
   * Appends `entry` as the next record inside `tx`, unless a record with its event id exists.
   * Returns the stored record, or undefined for a duplicate. Sequences have no gaps and follow
   * commit order, so a reader paging by sequence never skips a record committed later. The
   * access columns are derived from the entry's payload (`accessFieldsOf`) as it is stored.
   */
  append(tx: Queryable, entry: AuditEntry, recordTime: Date, signal?: AbortSignal): Promise<AuditRecord | undefined>;
  /** Records matching `filter` with a sequence above `after`, oldest first, at most `limit`. */
  query(filter: RecordFilter, after: number, limit: number, signal?: AbortSignal): Promise<AuditRecord[]>;
}

/** A records query as the API asks it. */
export type QueryRecordsInput = RecordFilterInput & {
  /** 0 means the default (50); at most 500. */
  readonly pageSize: number;
  /** Empty for the first page; otherwise the token of the previous page of the same query. */
  readonly pageToken: string;
};

/** A page of records. */
export interface RecordsPage {
  readonly records: readonly AuditRecord[];
  /** Empty when there are no more records. */
  readonly nextPageToken: string;
}

/** Dependencies of {@link createAuditLog}. */
export interface AuditLogDeps {
  readonly repository: AuditRepository;
  readonly clock: Clock;
}

/** The audit log: every event Jamey's services publish, stored once, in order. */
export interface AuditLog {
  /**
   * Stores one event inside the consumer's transaction `tx`, so the record and the consumer's
   * processed-id commit together. A redelivered event is ignored. Returns whether it was new.
   */
  record(tx: Queryable, entry: AuditEntry, signal?: AbortSignal): Promise<boolean>;
  /** Lists records oldest first, filtered, with cursor pagination. @throws INVALID_ARGUMENT */
  query(input: QueryRecordsInput, signal?: AbortSignal): Promise<RecordsPage>;
}

/** Creates the {@link AuditLog}. */
export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { repository, clock } = deps;
  return {
    async record(tx, entry, signal) {
      const stored = await repository.append(tx, entry, new Date(clock.now()), signal);
      return stored !== undefined;
    },

    async query(input, signal) {
      const filter = validateFilter(input);
      const limit = pageSize(input.pageSize);
      const after = decodeCursor(input.pageToken, filter);
      // One extra row tells whether another page exists without a second query.
      const rows = await repository.query(filter, after, limit + 1, signal);
      const records = rows.slice(0, limit);
      const last = records.at(-1);
      return { records, nextPageToken: rows.length > limit && last ? encodeCursor(last.sequence, filter) : '' };
    },
  };
}
