import { invalidArgument } from '@jamey/core';
import type { audit as pb } from '@jamey/proto';
import { ACCESS_OUTCOMES, type AccessOutcomeName, type AuditRecordJson, type QueryAuditQueryJson, type QueryAuditResultJson } from '../schemas/audit.js';
import { isoTime, nextPageToken, nonEmpty, pageRequest, timeFromJson } from './common.js';

/** The query of `GET /v1/audit/records` as a QueryRecords request. */
export function queryRecordsRequest(query: QueryAuditQueryJson): pb.QueryRecordsRequest {
  return {
    type: query.type ?? '',
    source: query.source ?? '',
    subject: query.subject ?? '',
    startTime: timeFromJson(query.startTime, 'query.startTime'),
    endTime: timeFromJson(query.endTime, 'query.endTime'),
    page: pageRequest(query.pageSize, query.pageToken),
    actor: query.actor,
    action: query.action,
    resource: query.resource,
    outcome: query.outcome,
  };
}

/**
 * The payload of a record as a JSON object. Audit sends it as canonical protobuf JSON text, or
 * empty when it does not know the schema. Text that does not parse to an object is left out
 * rather than failing the whole page: the record is still worth listing.
 */
function payload(dataJson: string): Record<string, unknown> | undefined {
  if (dataJson === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(dataJson);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An access record's outcome as JSON; undefined for other records. @throws when audit sends one the API does not know */
function accessOutcome(outcome: string | undefined): AccessOutcomeName | undefined {
  if (outcome === undefined || outcome === '') return undefined;
  if (!(ACCESS_OUTCOMES as readonly string[]).includes(outcome)) throw new Error(`audit sent an unknown access outcome ${outcome}`);
  return outcome as AccessOutcomeName;
}

/** A proto audit record as JSON. */
export function auditRecordToJson(record: pb.AuditRecord): AuditRecordJson {
  return {
    sequence: record.sequence,
    eventId: record.eventId,
    type: record.type,
    source: record.source,
    subject: record.subject,
    eventTime: isoTime(record.eventTime, 'record.event_time'),
    recordTime: isoTime(record.recordTime, 'record.record_time'),
    traceparent: nonEmpty(record.traceparent),
    dataSchema: record.dataSchema,
    data: payload(record.dataJson),
    topic: record.topic,
    actor: record.actor,
    action: record.action,
    resource: record.resource,
    outcome: accessOutcome(record.outcome),
  };
}

/** A QueryRecords response as JSON. */
export function queryRecordsResult(response: pb.QueryRecordsResponse): QueryAuditResultJson {
  return { items: response.records.map(auditRecordToJson), nextPageToken: nextPageToken(response.page) };
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** The inclusion-proof query as a GetInclusionProof request. @throws INVALID_ARGUMENT */
export function inclusionProofRequest(query: { sequence?: number; leafIndex?: number; treeSize?: number }): pb.GetInclusionProofRequest {
  if ((query.sequence === undefined) === (query.leafIndex === undefined)) {
    throw invalidArgument('query.sequence', 'give exactly one of sequence and leafIndex');
  }
  return {
    leaf: query.sequence !== undefined ? { $case: 'sequence', value: query.sequence } : { $case: 'leafIndex', value: query.leafIndex! },
    treeSize: query.treeSize ?? 0,
  };
}

/** A GetInclusionProof response in the independent verifier's JSON shape. */
export function inclusionProofJson(response: pb.GetInclusionProofResponse) {
  return { leafIndex: response.leafIndex, treeSize: response.treeSize, entry: base64(response.entry), proof: response.proof.map(base64) };
}

/** A GetConsistencyProof response in the independent verifier's JSON shape. */
export function consistencyProofJson(response: pb.GetConsistencyProofResponse) {
  return { fromSize: response.fromSize, toSize: response.toSize, proof: response.proof.map(base64) };
}

/** A GetCheckpoint response as JSON. */
export function checkpointJson(response: pb.GetCheckpointResponse) {
  return { checkpoint: response.checkpoint, treeSize: response.treeSize, rootHash: base64(response.rootHash) };
}

/** A VerifyLog response as JSON: the problem fields only when not ok. */
export function verifyLogJson(response: pb.VerifyLogResponse) {
  return response.ok
    ? { ok: true, treeSize: response.treeSize, checkedTreeSize: response.checkedTreeSize }
    : { ok: false, treeSize: response.treeSize, checkedTreeSize: response.checkedTreeSize, badIndex: response.badIndex, problem: response.problem, detail: response.detail };
}
