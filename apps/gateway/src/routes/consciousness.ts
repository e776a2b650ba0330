import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayClients } from '../clients.js';
import { integrationToJson, perceiveRequest, perceiveResult, workspaceStateToJson } from '../mapping/consciousness.js';
import { described, NoQuery } from '../schemas/common.js';
import { IntegrationSchema, PerceiveBody, PerceiveResult, WorkspaceStateSchema } from '../schemas/consciousness.js';
import { problemResponses } from '../schemas/problem.js';

/** Options of {@link consciousnessRoutes}. */
export interface ConsciousnessRoutesOptions {
  readonly consciousness: GatewayClients['consciousness'];
}

const tags = ['consciousness'];

/** `/perceptions`, `/consciousness/state` and `/consciousness/integration` (ConsciousnessService). */
export const consciousnessRoutes: FastifyPluginAsyncTypebox<ConsciousnessRoutesOptions> = async (app, { consciousness }) => {
  app.post(
    '/perceptions',
    {
      schema: {
        operationId: 'perceive',
        querystring: NoQuery,
        summary: 'Perceive an input: it competes for focus and recalls memory context',
        tags,
        body: PerceiveBody,
        response: { 201: described(PerceiveResult, 'The recorded perception and the focus after it.'), ...problemResponses(413, 415) },
      },
      config: { scopes: ['consciousness:write'] },
    },
    async (request, reply) => {
      const result = perceiveResult(await consciousness.perceive(perceiveRequest(request.body), request.downstream));
      return reply.code(201).send(result);
    },
  );

  app.get(
    '/consciousness/state',
    {
      schema: {
        operationId: 'getConsciousnessState',
        querystring: NoQuery,
        summary: 'Read the global workspace',
        tags,
        response: { 200: described(WorkspaceStateSchema, 'The workspace projection.'), ...problemResponses() },
      },
      config: { scopes: ['consciousness:read'] },
    },
    async (request) => workspaceStateToJson(await consciousness.getState({}, request.downstream)),
  );

  app.get(
    '/consciousness/integration',
    {
      schema: {
        operationId: 'getConsciousnessIntegration',
        querystring: NoQuery,
        summary: 'Estimate the integrated information Φ of the global workspace (docs/consciousness-phi.md)',
        tags,
        response: { 200: described(IntegrationSchema, 'The estimate, or why there is none yet.'), ...problemResponses() },
      },
      config: { scopes: ['consciousness:read'] },
    },
    async (request) => integrationToJson(await consciousness.getIntegration({}, request.downstream)),
  );
};
