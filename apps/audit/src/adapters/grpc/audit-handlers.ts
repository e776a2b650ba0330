import { audit as pb } from '@jamey/proto';
import type { ServiceHandlers } from '@jamey/rpc';
import type { AuditLog } from '../../domain/audit-log.js';
import type { AuditRecord } from '../../domain/audit-record.js';

/** The proto form of a record. */
export function toProtoRecord(record: AuditRecord): pb.AuditRecord {
  return {
    sequence: record.sequence,
    eventId: record.eventId,
    type: record.type,
    source: record.source,
    subject: record.subject,
    eventTime: record.eventTime,
    recordTime: record.recordTime,
    traceparent: record.traceparent,
    dataSchema: record.dataSchema,
    dataJson: record.dataJson ?? '',
    topic: record.topic,
    // Absent (not empty) on records that are not access records.
    ...(record.actor === null ? {} : { actor: record.actor }),
    ...(record.action === null ? {} : { action: record.action }),
    ...(record.resource === null ? {} : { resource: record.resource }),
    ...(record.outcome === null ? {} : { outcome: record.outcome }),
  };
}

/** gRPC handlers of `jamey.audit.v1.AuditService`'s records methods (the log's are in log-handlers.ts). */
export function createAuditHandlers(log: AuditLog): Pick<ServiceHandlers<pb.AuditServiceServer>, 'queryRecords'> {
  return {
    async queryRecords(request, { signal }) {
      const page = await log.query(
        {
          type: request.type,
          source: request.source,
          subject: request.subject,
          actor: request.actor,
          action: request.action,
          resource: request.resource,
          outcome: request.outcome,
          startTime: request.startTime,
          endTime: request.endTime,
          pageSize: request.page?.pageSize ?? 0,
          pageToken: request.page?.pageToken ?? '',
        },
        signal,
      );
      return { records: page.records.map(toProtoRecord), page: { nextPageToken: page.nextPageToken } };
    },
  };
}
