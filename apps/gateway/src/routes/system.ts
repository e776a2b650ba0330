import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Scope } from '@jamey/security';
import type { GatewayClients } from '../clients.js';
import { alertStatesToProto, alertsToJson, systemHealthToJson } from '../mapping/system.js';
import { described, NoQuery } from '../schemas/common.js';
import { problemResponses } from '../schemas/problem.js';
import { AlertsQuery, AlertsSchema, DegradationSchema, SystemHealthSchema, type DegradationJson } from '../schemas/system.js';

/**
 * The system views are read-only and say nothing about anyone's data: any valid token reads
 * them. (Changing degradation, when the API offers it, will need `admin`.)
 */
const ANY_TOKEN: readonly Scope[] = [];

/** Options of {@link systemRoutes}. */
export interface SystemRoutesOptions {
  readonly telemetry: GatewayClients['telemetry'];
  /** The gateway's view of each downstream: degradation level and breaker state. */
  readonly degradation: () => DegradationJson;
}

/** `/system/health`: every service's health as telemetry last saw it; `/system/alerts`: its alerts (TelemetryService). */
export const systemRoutes: FastifyPluginAsyncTypebox<SystemRoutesOptions> = async (app, { telemetry, degradation }) => {
  app.get(
    '/system/degradation',
    {
      schema: {
        operationId: 'getDegradation',
        querystring: NoQuery,
        summary: "Every downstream's degradation level and circuit breaker state, as the gateway sees them",
        tags: ['system'],
        response: { 200: described(DegradationSchema, 'The current levels.'), ...problemResponses() },
      },
      config: { scopes: ANY_TOKEN },
    },
    // Answered locally: it must work exactly when the downstreams do not.
    async () => degradation(),
  );

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
      config: { scopes: ANY_TOKEN },
    },
    async (request) => systemHealthToJson(await telemetry.getSystemHealth({}, request.downstream)),
  );

  app.get(
    '/system/alerts',
    {
      schema: {
        operationId: 'listAlerts',
        querystring: AlertsQuery,
        summary: 'The alerts telemetry raised: pending and firing ones by default, newest first',
        tags: ['system'],
        response: { 200: described(AlertsSchema, 'The alerts.'), ...problemResponses() },
      },
      config: { scopes: ANY_TOKEN },
    },
    async (request) =>
      alertsToJson(await telemetry.listAlerts({ states: alertStatesToProto(request.query.state), pageSize: request.query.pageSize ?? 0 }, request.downstream)),
  );
};
