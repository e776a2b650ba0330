import type { Queryable } from '@jamey/data';
import type { AuditRepository } from '../../domain/audit-log.js';
import type { AuditRecord } from '../../domain/audit-record.js';

interface AuditRow {
  sequence: string | number;
  event_id: string;
  type: string;
  source: string;
  subject: string;
  event_time: Date | string;
  record_time: Date | string;
  traceparent: string;
  data_schema: string;
  data_json: string | null;
  topic: string;
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    sequence: Number(row.sequence),
    eventId: row.event_id,
    type: row.type,
    source: row.source,
    subject: row.subject,
    eventTime: new Date(row.event_time),
    recordTime: new Date(row.record_time),
    traceparent: row.traceparent,
    dataSchema: row.data_schema,
    dataJson: row.data_json,
    topic: row.topic,
  };
}

const COLUMNS = 'sequence, event_id, type, source, subject, event_time, record_time, traceparent, data_schema, data_json, topic';

/**
 * Serializes appends so that sequences are dense and follow commit order. Held until the
 * consumer's transaction ends. The key is an arbitrary constant owned by this table.
 */
const APPEND_LOCK_KEY = 7_277_001_754;

/** The Postgres (and PGlite) audit repository, table `audit_records`. */
export function createPgAuditRepository(db: Queryable): AuditRepository {
  return {
    async append(tx, entry, recordTime, signal) {
      // A separate statement, so the INSERT below takes its snapshot after the lock is ours and
      // sees every record committed before (READ COMMITTED).
      await tx.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY], signal);
      const { rows } = await tx.query<AuditRow>(
        `INSERT INTO audit_records (sequence, event_id, type, source, subject, event_time, record_time,
                                    traceparent, data_schema, data_json, envelope, topic)
         SELECT COALESCE(MAX(sequence), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM audit_records
         ON CONFLICT (event_id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          entry.eventId,
          entry.type,
          entry.source,
          entry.subject,
          entry.eventTime.toISOString(),
          recordTime.toISOString(),
          entry.traceparent,
          entry.dataSchema,
          entry.dataJson,
          Buffer.from(entry.envelope),
          entry.topic,
        ],
        signal,
      );
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async query(filter, after, limit, signal) {
      const { rows } = await db.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_records
         WHERE sequence > $1
           AND ($2::text IS NULL OR type = $2::text)
           AND ($3::text IS NULL OR source = $3::text)
           AND ($4::text IS NULL OR subject = $4::text)
           AND ($5::timestamptz IS NULL OR event_time >= $5::timestamptz)
           AND ($6::timestamptz IS NULL OR event_time < $6::timestamptz)
         ORDER BY sequence
         LIMIT $7`,
        [
          after,
          filter.type ?? null,
          filter.source ?? null,
          filter.subject ?? null,
          filter.startTime?.toISOString() ?? null,
          filter.endTime?.toISOString() ?? null,
          limit,
        ],
        signal,
      );
      return rows.map(toRecord);
    },
  };
}
