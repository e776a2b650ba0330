import { Type, type Static } from 'typebox';
import { IsoTime, NextPageToken, PageSize, PageToken, stringEnum } from './common.js';

/** What became of an access (a request or a gRPC call), as access records name it. */
export const ACCESS_OUTCOMES = ['allowed', 'unauthenticated', 'denied', 'throttled', 'failed', 'error'] as const;
/** An access outcome as sent and accepted over HTTP. */
export type AccessOutcomeName = (typeof ACCESS_OUTCOMES)[number];
const AccessOutcomeSchema = stringEnum(ACCESS_OUTCOMES, {
  description: 'Access records only: allowed, unauthenticated (401), denied (403), throttled (429), failed (other 4xx) or error (5xx).',
});

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
    actor: Type.Optional(Type.String({ description: 'Access records only: the user subject or calling service.' })),
    action: Type.Optional(Type.String({ description: 'Access records only: for example `GET /v1/memories` or a gRPC method path.' })),
    resource: Type.Optional(Type.String({ description: 'Access records only: the concrete path, or the callee service.' })),
    outcome: Type.Optional(AccessOutcomeSchema),
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
    actor: Type.Optional(Filter('Access records: exact actor (user subject or calling service).')),
    action: Type.Optional(Filter('Access records: exact action, for example `GET /v1/memories`.')),
    resource: Type.Optional(Filter('Access records: exact resource.')),
    outcome: Type.Optional(AccessOutcomeSchema),
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

const Size = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const Hash = Type.String({ description: 'Base64 SHA-256 hash.' });

/** Response of `GET /v1/audit/log/info`. */
export const LogInfoResult = Type.Object(
  {
    verifierKey: Type.String({ description: '`<origin>+<key id>+<key>`: what `verify-audit.mjs --key` takes.' }),
    origin: Type.String(),
  },
  { additionalProperties: false },
);

/** Query of `GET /v1/audit/log/checkpoint`. */
export const CheckpointQuery = Type.Object({ treeSize: Type.Optional(Size('The signed head of this size; omit for the latest.')) }, { additionalProperties: false });

/** Response of `GET /v1/audit/log/checkpoint`. */
export const CheckpointResult = Type.Object(
  {
    checkpoint: Type.String({ description: 'The C2SP checkpoint (signed note), exactly as signed; save it byte for byte.' }),
    treeSize: Size('The tree size it signs.'),
    rootHash: Hash,
  },
  { additionalProperties: false },
);

/** Query of `GET /v1/audit/log/inclusion-proof`: exactly one of `sequence` and `leafIndex`. */
export const InclusionProofQuery = Type.Object(
  {
    sequence: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The record (leaf index + 1).' })),
    leafIndex: Type.Optional(Size('The leaf (sequence − 1).')),
    treeSize: Type.Optional(Size('The tree size; omit for the latest signed head.')),
  },
  { additionalProperties: false },
);

/** Response of `GET /v1/audit/log/inclusion-proof`: the independent verifier's inclusion JSON. */
export const InclusionProofResult = Type.Object(
  {
    leafIndex: Size('0-based leaf index.'),
    treeSize: Size('The tree size the proof is for.'),
    entry: Type.String({ description: 'Base64 leaf entry bytes (apps/audit/README.md, "Leaf entry encoding").' }),
    proof: Type.Array(Hash),
  },
  { additionalProperties: false },
);

/** Query of `GET /v1/audit/log/consistency-proof`. */
export const ConsistencyProofQuery = Type.Object(
  { fromSize: Size('The older tree size.'), toSize: Type.Optional(Size('The newer tree size; omit for the latest signed head.')) },
  { additionalProperties: false },
);

/** Response of `GET /v1/audit/log/consistency-proof`: the independent verifier's consistency JSON. */
export const ConsistencyProofResult = Type.Object(
  { fromSize: Size('The older tree size.'), toSize: Size('The newer tree size.'), proof: Type.Array(Hash) },
  { additionalProperties: false },
);

/** Response of `GET /v1/audit/log/verify`. */
export const VerifyLogResult = Type.Object(
  {
    ok: Type.Boolean(),
    treeSize: Size('Leaves in storage.'),
    checkedTreeSize: Size('The signed head checked against (0 when none is signed yet).'),
    badIndex: Type.Optional(Size('The first bad leaf index, when not ok.')),
    problem: Type.Optional(Type.String({ description: 'changed | missing | reordered | node | root' })),
    detail: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
