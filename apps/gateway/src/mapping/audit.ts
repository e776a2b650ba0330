import type { audit as pb } from '@jamey/proto';
import type { AuditRecordJson, QueryAuditQueryJson, QueryAuditResultJson } from '../schemas/audit.js';
import { isoTime, nextPageToken, nonEmpty, pageRequest, timeFromJson } from './common.js';

/** The query of `GET /v1/audit/records` as a QueryRecords request. */
export function queryRecordsRequest(query: QueryAuditQueryJson): pb.QueryRecordsRequest {
  return {
    type: query.type ?? '',
    source: query.source ?? '',
    subject: query.subject ?? '',
    startTime: timeFromJson(query.startTime),
    endTime: timeFromJson(query.endTime),
    page: pageRequest(query.pageSize, query.pageToken),
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
  };
}

/** A QueryRecords response as JSON. */
export function queryRecordsResult(response: pb.QueryRecordsResponse): QueryAuditResultJson {
  return { items: response.records.map(auditRecordToJson), nextPageToken: nextPageToken(response.page) };
}
