import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayClients } from '../clients.js';
import { queryRecordsRequest, queryRecordsResult } from '../mapping/audit.js';
import { QueryAuditQuery, QueryAuditResult } from '../schemas/audit.js';
import { described } from '../schemas/common.js';
import { problemResponses } from '../schemas/problem.js';

/** Options of {@link auditRoutes}. */
export interface AuditRoutesOptions {
  readonly audit: GatewayClients['audit'];
}

/** `/audit/records`: the tamper-evident log (AuditService). */
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
      config: { fieldAliases: { 'page.pageSize': 'query.pageSize', 'page.pageToken': 'query.pageToken' } },
    },
    async (request) => queryRecordsResult(await audit.queryRecords(queryRecordsRequest(request.query), request.downstream)),
  );
};
