import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Scope } from '@jamey/security';
import type { GatewayClients } from '../clients.js';
import {
  checkpointJson,
  consistencyProofJson,
  inclusionProofJson,
  inclusionProofRequest,
  queryRecordsRequest,
  queryRecordsResult,
  verifyLogJson,
} from '../mapping/audit.js';
import {
  CheckpointQuery,
  CheckpointResult,
  ConsistencyProofQuery,
  ConsistencyProofResult,
  InclusionProofQuery,
  InclusionProofResult,
  LogInfoResult,
  QueryAuditQuery,
  QueryAuditResult,
  VerifyLogResult,
} from '../schemas/audit.js';
import { described, NoQuery } from '../schemas/common.js';
import { problemResponses } from '../schemas/problem.js';

/** Reading records and proofs. */
const READ: readonly Scope[] = ['audit:read'];
/**
 * Recomputing the whole tree is an operator's verification run (docs/security.md, `admin`): it
 * reads every record, so it needs `admin` besides `audit:read`.
 */
const VERIFY: readonly Scope[] = ['audit:read', 'admin'];

/** Options of {@link auditRoutes}. */
export interface AuditRoutesOptions {
  readonly audit: GatewayClients['audit'];
}

/** `/audit/records` and `/audit/log/...`: the tamper-evident log (AuditService). */
export const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, { audit }) => {
  app.get(
    '/audit/records',
    {
      schema: {
        operationId: 'queryAuditRecords',
        summary: 'List audit records oldest first, filtered',
        tags: ['audit'],
        querystring: QueryAuditQuery,
        response: { 200: described(QueryAuditResult, 'One page of records.'), ...problemResponses() },
      },
      config: { scopes: READ, fieldAliases: { 'page.pageSize': 'query.pageSize', 'page.pageToken': 'query.pageToken' } },
    },
    async (request) => queryRecordsResult(await audit.queryRecords(queryRecordsRequest(request.query), request.downstream)),
  );

  // The verifiable log. Responses are the shapes apps/audit/verifier/verify-audit.mjs reads.
  const log = (path: string, operationId: string, summary: string) => ({ path: `/audit/log/${path}`, meta: { operationId, summary, tags: ['audit'] } });
  const READ_CONFIG = { config: { scopes: READ } };
  const info = log('info', 'getAuditLogInfo', 'The audit log’s verifier key and origin');
  app.get(
    info.path,
    { ...READ_CONFIG, schema: { ...info.meta, querystring: NoQuery, response: { 200: described(LogInfoResult, 'The verifier key.'), ...problemResponses() } } },
    async (request) => audit.getLogInfo({}, request.downstream),
  );
  const checkpoint = log('checkpoint', 'getAuditCheckpoint', 'A signed tree head (C2SP checkpoint)');
  app.get(
    checkpoint.path,
    { ...READ_CONFIG, schema: { ...checkpoint.meta, querystring: CheckpointQuery, response: { 200: described(CheckpointResult, 'The signed note.'), ...problemResponses(404) } } },
    async (request) => checkpointJson(await audit.getCheckpoint({ treeSize: request.query.treeSize ?? 0 }, request.downstream)),
  );
  const inclusion = log('inclusion-proof', 'getAuditInclusionProof', 'An RFC 9162 inclusion proof of one record');
  app.get(
    inclusion.path,
    { ...READ_CONFIG, schema: { ...inclusion.meta, querystring: InclusionProofQuery, response: { 200: described(InclusionProofResult, 'The proof.'), ...problemResponses() } } },
    async (request) => inclusionProofJson(await audit.getInclusionProof(inclusionProofRequest(request.query), request.downstream)),
  );
  const consistency = log('consistency-proof', 'getAuditConsistencyProof', 'An RFC 9162 consistency proof between two tree sizes');
  app.get(
    consistency.path,
    { ...READ_CONFIG, schema: { ...consistency.meta, querystring: ConsistencyProofQuery, response: { 200: described(ConsistencyProofResult, 'The proof.'), ...problemResponses() } } },
    async (request) =>
      consistencyProofJson(await audit.getConsistencyProof({ fromSize: request.query.fromSize, toSize: request.query.toSize ?? 0 }, request.downstream)),
  );
  const verify = log('verify', 'verifyAuditLog', 'Recompute the whole tree from storage and check the latest signed head');
  app.get(
    verify.path,
    { config: { scopes: VERIFY }, schema: { ...verify.meta, querystring: NoQuery, response: { 200: described(VerifyLogResult, 'The outcome; ok false names the first bad index.'), ...problemResponses() } } },
    async (request) => verifyLogJson(await audit.verifyLog({}, request.downstream)),
  );
};
