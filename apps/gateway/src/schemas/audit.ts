import { Type, type Static } from 'typebox';
import { IsoTime, NextPageToken, PageSize, PageToken } from './common.js';

/** An audit record as returned by the API. */
export const AuditRecordSchema = Type.Object(
  {
    sequence: Type.Integer({ minimum: 1, description: 'Position in the log, starting at 1.' }),
    eventId: Type.String(),
    type: Type.String({ description: 'Event type, for example `memory.encoded`.' }),
    source: Type.String({ description: 'The producing service.' }),
    subject: Type.String({ description: 'The aggregate id.' }),
    eventTime: IsoTime(),
    recordTime: IsoTime(),
    traceparent: Type.Optional(Type.String()),
    dataSchema: Type.String({ description: 'Fully qualified protobuf message name of the payload.' }),
    data: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: 'The payload as canonical protobuf JSON; absent when the schema is unknown.' }),
    ),
    topic: Type.String(),
  },
  { additionalProperties: false, title: 'AuditRecord' },
);
export type AuditRecordJson = Static<typeof AuditRecordSchema>;

const Filter = (description: string) => Type.String({ minLength: 1, maxLength: 256, description });

/** Query of `GET /v1/audit/records`. */
export const QueryAuditQuery = Type.Object(
  {
    type: Type.Optional(Filter('Exact event type, for example `memory.encoded`.')),
    source: Type.Optional(Filter('Producing service.')),
    subject: Type.Optional(Filter('Aggregate id.')),
    startTime: Type.Optional(IsoTime('Inclusive lower bound on event time.')),
    endTime: Type.Optional(IsoTime('Exclusive upper bound on event time.')),
    pageSize: Type.Optional(PageSize(500)),
    pageToken: Type.Optional(PageToken),
  },
  { additionalProperties: false },
);
export type QueryAuditQueryJson = Static<typeof QueryAuditQuery>;

/** Response of `GET /v1/audit/records`. */
export const QueryAuditResult = Type.Object(
  { items: Type.Array(AuditRecordSchema, { description: 'Oldest first.' }), nextPageToken: NextPageToken },
  { additionalProperties: false },
);
export type QueryAuditResultJson = Static<typeof QueryAuditResult>;
