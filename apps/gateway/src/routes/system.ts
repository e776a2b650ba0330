import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayClients } from '../clients.js';
import { systemHealthToJson } from '../mapping/system.js';
import { described, NoQuery } from '../schemas/common.js';
import { problemResponses } from '../schemas/problem.js';
import { SystemHealthSchema } from '../schemas/system.js';

/** Options of {@link systemRoutes}. */
export interface SystemRoutesOptions {
  readonly telemetry: GatewayClients['telemetry'];
}

/** `/system/health`: every service's health as telemetry last saw it (TelemetryService). */
export const systemRoutes: FastifyPluginAsyncTypebox<SystemRoutesOptions> = async (app, { telemetry }) => {
  app.get(
    '/system/health',
    {
      schema: {
        operationId: 'getSystemHealth',
        querystring: NoQuery,
        summary: 'The health of every service and the aggregate',
        tags: ['system'],
        response: { 200: described(SystemHealthSchema, 'The latest health.'), ...problemResponses() },
      },
    },
    async (request) => systemHealthToJson(await telemetry.getSystemHealth({}, request.downstream)),
  );
};
