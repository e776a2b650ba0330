import type { AuditRecord } from './audit-record.js';

/**
 * The bytes of a record's Merkle leaf (the RFC 9162 `entry` of `H(0x00 || entry)`), computed
 * from the stored columns only, so that changing any stored field changes the leaf hash. The
 * encoding, version 1, is documented in apps/audit/README.md ("Leaf entry encoding"):
 *
 *   "jamey.audit.leaf.v1\n" then, per field in this order, a 4-byte big-endian length and the
 *   field's bytes: sequence (decimal ASCII), event_id, type, source, subject, event_time,
 *   record_time (UTC with microseconds as stored, `YYYY-MM-DDTHH:MM:SS.ffffffZ`), traceparent, data_schema,
 *   data_json (length 0xFFFFFFFF and no bytes when NULL), topic (all UTF-8), envelope (raw).
 */
export const LEAF_ENTRY_MAGIC = 'jamey.audit.leaf.v1\n';

/** The length written for a NULL `data_json`: distinct from every real length. */
const NULL_LENGTH = 0xffff_ffff;

/** A stored record with its envelope and exact times: everything the leaf covers. */
export interface LeafRecord extends AuditRecord {
  readonly envelope: Uint8Array;
  /** `event_time` at the database's full precision: `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
  readonly eventTimeUtc: string;
  /** `record_time` likewise. */
  readonly recordTimeUtc: string;
}

/** The canonical leaf entry bytes of `record` (see {@link LEAF_ENTRY_MAGIC}). */
export function leafEntry(record: LeafRecord): Buffer {
  const parts: Buffer[] = [Buffer.from(LEAF_ENTRY_MAGIC, 'utf8')];
  const put = (bytes: Uint8Array | null): void => {
    const length = Buffer.alloc(4);
    if (bytes === null) {
      length.writeUInt32BE(NULL_LENGTH);
      parts.push(length);
      return;
    }
    if (bytes.length >= NULL_LENGTH) throw new RangeError('leaf field is too long');
    length.writeUInt32BE(bytes.length);
    parts.push(length, Buffer.from(bytes));
  };
  const text = (value: string): void => put(Buffer.from(value, 'utf8'));
  text(String(record.sequence));
  text(record.eventId);
  text(record.type);
  text(record.source);
  text(record.subject);
  text(record.eventTimeUtc);
  text(record.recordTimeUtc);
  text(record.traceparent);
  text(record.dataSchema);
  put(record.dataJson === null ? null : Buffer.from(record.dataJson, 'utf8'));
  text(record.topic);
  put(record.envelope);
  return Buffer.concat(parts);
}
