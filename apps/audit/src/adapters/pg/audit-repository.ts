import type { Database, Queryable } from '@jamey/data';
import type { MerkleStore } from '../../domain/verifiable-log.js';
import { accessFieldsOf, type AccessOutcome } from '../../domain/access-fields.js';
import type { AuditRepository } from '../../domain/audit-log.js';
import type { AuditRecord, RecordFilter } from '../../domain/audit-record.js';
import { leafEntry, type LeafRecord } from '../../domain/leaf-entry.js';
import { completedParents, leafHash, nodeHash, nodeKey, type NodeId } from '../../domain/merkle.js';

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
  actor: string | null;
  action: string | null;
  resource: string | null;
  outcome: string | null;
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
    actor: row.actor,
    action: row.action,
    resource: row.resource,
    // The column's CHECK constraint admits only outcomes.
    outcome: row.outcome as AccessOutcome | null,
  };
}

const COLUMNS =
  'sequence, event_id, type, source, subject, event_time, record_time, traceparent, data_schema, data_json, topic, actor, action, resource, outcome';

/**
 * The WHERE clause of a records query and its parameters, after `$1` (the cursor). Only the
 * filters that are set become conditions, so each one can use its `(column, sequence)` index.
 */
function whereOf(filter: RecordFilter): { conditions: string[]; params: unknown[] } {
  const conditions = ['sequence > $1'];
  const params: unknown[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown): void => {
    params.push(value);
    conditions.push(sql(`$${params.length + 1}`));
  };
  const text = { type: filter.type, source: filter.source, subject: filter.subject, actor: filter.actor, action: filter.action, resource: filter.resource, outcome: filter.outcome };
  for (const [column, value] of Object.entries(text)) {
    if (value !== undefined) add((p) => `${column} = ${p}::text`, value);
  }
  if (filter.startTime) add((p) => `event_time >= ${p}::timestamptz`, filter.startTime.toISOString());
  if (filter.endTime) add((p) => `event_time < ${p}::timestamptz`, filter.endTime.toISOString());
  return { conditions, params };
}

/** What a Merkle leaf covers beyond {@link COLUMNS}: the envelope and the times at full precision. */
const UTC = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const LEAF_COLUMNS = `${COLUMNS}, envelope, to_char(event_time AT TIME ZONE 'UTC', ${UTC}) AS event_time_utc,
  to_char(record_time AT TIME ZONE 'UTC', ${UTC}) AS record_time_utc`;

/**
 * Every record, live and archived: what the Merkle tree covers. Verification and proofs read
 * through it, so archiving changes nothing they see.
 */
const ALL_RECORDS = `(SELECT ${COLUMNS}, envelope FROM audit_records
  UNION ALL SELECT ${COLUMNS}, envelope FROM audit_records_archive) AS all_records`;

interface LeafRow extends AuditRow {
  envelope: Uint8Array;
  event_time_utc: string;
  record_time_utc: string;
}

function toLeafRecord(row: LeafRow): LeafRecord {
  return { ...toRecord(row), envelope: Buffer.from(row.envelope), eventTimeUtc: row.event_time_utc, recordTimeUtc: row.record_time_utc };
}

/**
 * Writes the Merkle leaf of the record just appended as leaf `index`, and every parent node it
 * completes, inside the append's transaction. The left children come from earlier appends.
 */
async function appendNodes(tx: Queryable, index: number, leaf: Buffer, signal?: AbortSignal): Promise<void> {
  const parents = completedParents(index);
  const hashes = new Map<string, Buffer>([[nodeKey({ level: 0, index }), leaf]]);
  if (parents.length > 0) {
    const { rows } = await tx.query<{ level: number; index: string | number; hash: Buffer }>(
      `SELECT level, index, hash FROM merkle_nodes
       WHERE (level, index) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))`,
      [parents.map((p) => p.left.level), parents.map((p) => p.left.index)],
      signal,
    );
    for (const row of rows) hashes.set(nodeKey({ level: Number(row.level), index: Number(row.index) }), Buffer.from(row.hash));
  }
  const lookup = (node: NodeId): Buffer => {
    const hash = hashes.get(nodeKey(node));
    if (!hash) throw new Error(`audit Merkle node (${node.level}, ${node.index}) is missing: the stored tree is incomplete`);
    return hash;
  };
  const written: NodeId[] = [{ level: 0, index }];
  for (const { node, left, right } of parents) {
    hashes.set(nodeKey(node), nodeHash(lookup(left), lookup(right)));
    written.push(node);
  }
  await tx.query(
    `INSERT INTO merkle_nodes (level, index, hash)
     SELECT level, index, decode(hash, 'hex') FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS n(level, index, hash)`,
    [written.map((n) => n.level), written.map((n) => n.index), written.map((n) => lookup(n).toString('hex'))],
    signal,
  );
}

/**
 * Serializes appends so that sequences are dense and follow commit order. Held until the
 * consumer's transaction ends. The key is an arbitrary constant owned by this table.
 */
const APPEND_LOCK_KEY = 7_277_001_754;

/** The Postgres (and PGlite) audit repository, table `audit_records`. */
export function createPgAuditRepository(db: Queryable): AuditRepository {
  return {
    async append(tx, entry, recordTime, signal) {
      const access = accessFieldsOf(entry.dataSchema, entry.dataJson);
      // A separate statement, so the INSERT below takes its snapshot after the lock is ours and
      // sees every record committed before (READ COMMITTED).
      await tx.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY], signal);
      const { rows } = await tx.query<LeafRow>(
        `INSERT INTO audit_records (sequence, event_id, type, source, subject, event_time, record_time,
                                    traceparent, data_schema, data_json, envelope, topic,
                                    actor, action, resource, outcome)
         -- The next sequence counts archived records too (the archive is a prefix of the log,
         -- so the live table may be empty), and an event already archived is not stored again.
         SELECT GREATEST((SELECT MAX(sequence) FROM audit_records), (SELECT MAX(sequence) FROM audit_records_archive), 0) + 1,
                $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
         WHERE NOT EXISTS (SELECT 1 FROM audit_records_archive WHERE event_id = $1)
         ON CONFLICT (event_id) DO NOTHING
         RETURNING ${LEAF_COLUMNS}`,
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
          access.actor,
          access.action,
          access.resource,
          access.outcome,
        ],
        signal,
      );
      const row = rows[0];
      if (!row) return undefined;
      await appendNodes(tx, Number(row.sequence) - 1, leafHash(leafEntry(toLeafRecord(row))), signal);
      return toRecord(row);
    },

    async query(filter, after, limit, signal) {
      const { conditions, params } = whereOf(filter);
      const { rows } = await db.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_records WHERE ${conditions.join(' AND ')}
         ORDER BY sequence LIMIT $${params.length + 2}`,
        [after, ...params, limit],
        signal,
      );
      return rows.map(toRecord);
    },
  };
}

/** The audit log's stored Merkle tree (table `merkle_nodes`) and the records it covers. */
export function createPgMerkleStore(db: Queryable): MerkleStore {
  return {
    async treeSize(signal) {
      const { rows } = await db.query<{ size: string | number }>(
        'SELECT COALESCE(MAX(index) + 1, 0) AS size FROM merkle_nodes WHERE level = 0',
        [],
        signal,
      );
      return Number(rows[0]?.size ?? 0);
    },

    async nodes(nodes, signal) {
      const hashes = new Map<string, Buffer>();
      if (nodes.length === 0) return hashes;
      const { rows } = await db.query<{ level: number; index: string | number; hash: Uint8Array }>(
        `SELECT level, index, hash FROM merkle_nodes
         WHERE (level, index) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))`,
        [nodes.map((n) => n.level), nodes.map((n) => n.index)],
        signal,
      );
      for (const row of rows) hashes.set(nodeKey({ level: Number(row.level), index: Number(row.index) }), Buffer.from(row.hash));
      return hashes;
    },

    async leafRecords(after, limit, signal) {
      const { rows } = await db.query<LeafRow>(
        `SELECT ${LEAF_COLUMNS} FROM ${ALL_RECORDS} WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
        [after, limit],
        signal,
      );
      return rows.map(toLeafRecord);
    },

    async leafRecord(sequence, signal) {
      const { rows } = await db.query<LeafRow>(
        `SELECT ${LEAF_COLUMNS} FROM ${ALL_RECORDS} WHERE sequence = $1`,
        [sequence],
        signal,
      );
      return rows[0] ? toLeafRecord(rows[0]) : undefined;
    },
  };
}

/**
 * Writes the Merkle nodes of records stored before the tree existed (a database migrated from
 * before `merkle_nodes`), oldest first, `pageSize` records per transaction under the append
 * lock. A no-op once the tree covers every record. Returns how many leaves it added.
 * @throws Error when the records have a gap, which no append ever leaves
 */
export async function backfillMerkleNodes(db: Database, pageSize = 500, signal?: AbortSignal): Promise<number> {
  let added = 0;
  for (;;) {
    const count = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY], signal);
      const store = createPgMerkleStore(tx);
      const size = await store.treeSize(signal);
      const records = await store.leafRecords(size, pageSize, signal);
      for (const [i, record] of records.entries()) {
        if (record.sequence !== size + i + 1) {
          throw new Error(`audit record ${size + i + 1} is missing (found ${record.sequence}): cannot build the Merkle tree past it`);
        }
        await appendNodes(tx, record.sequence - 1, leafHash(leafEntry(record)), signal);
      }
      return records.length;
    }, signal);
    if (count === 0) return added;
    added += count;
  }
}

/** Options of {@link archiveRecords}. */
export interface ArchiveOptions {
  /** Records stored (record_time) before this time are archived. */
  readonly before: Date;
  /** Records moved per transaction. Default 500. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * Retention: moves the records stored before `before` from `audit_records` to
 * `audit_records_archive`, oldest first, `batchSize` per transaction under the append lock.
 * Only a prefix of the log moves: it stops at the first record stored at or after `before`, so
 * the live table always holds one unbroken run of sequences. Merkle nodes and tree heads are
 * untouched: proofs and signed heads stay valid, and verification reads both tables.
 * Returns how many records moved.
 */
export async function archiveRecords(db: Database, options: ArchiveOptions): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const { signal } = options;
  let moved = 0;
  for (;;) {
    const count = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY], signal);
      // The last sequence to move: below the first record too young to go, within one batch.
      const { rows } = await tx.query<{ through: string | number | null }>(
        `SELECT LEAST(
                  (SELECT MIN(sequence) FROM audit_records) + $2 - 1,
                  COALESCE((SELECT MIN(sequence) FROM audit_records WHERE record_time >= $1::timestamptz) - 1,
                           (SELECT MAX(sequence) FROM audit_records))) AS through`,
        [options.before.toISOString(), batchSize],
        signal,
      );
      const through = rows[0]?.through;
      if (through === null || through === undefined) return 0;
      const result = await tx.query(
        `WITH moved AS (DELETE FROM audit_records WHERE sequence <= $1 RETURNING ${COLUMNS}, envelope)
         INSERT INTO audit_records_archive (${COLUMNS}, envelope) SELECT ${COLUMNS}, envelope FROM moved`,
        [through],
        signal,
      );
      return result.rowCount ?? 0;
    }, signal);
    if (count === 0) return moved;
    moved += count;
  }
}
