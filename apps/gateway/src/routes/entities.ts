import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { GatewayClients } from '../clients.js';
import { entityToJson, recordInteractionRequest, recordInteractionResult, upsertEntityRequest } from '../mapping/soul.js';
import { described, EntityIdParams, LOCATION_HEADER, NoQuery } from '../schemas/common.js';
import { problemResponses } from '../schemas/problem.js';
import { EntitySchema, RecordInteractionBody, RecordInteractionResult, UpsertEntityBody } from '../schemas/soul.js';

/** Options of {@link entityRoutes}. */
export interface EntityRoutesOptions {
  readonly soul: GatewayClients['soul'];
}

const tags = ['entities'];

/** `/entities`: the entities Jamey knows and its interactions with them (SoulService). */
export const entityRoutes: FastifyPluginAsyncTypebox<EntityRoutesOptions> = async (app, { soul }) => {
  app.put(
    '/entities/:id',
    {
      schema: {
        operationId: 'upsertEntity',
        querystring: NoQuery,
        summary: 'Create or rename an entity',
        tags,
        params: EntityIdParams,
        body: UpsertEntityBody,
        response: {
          200: described(EntitySchema, 'The renamed entity.'),
          201: described(EntitySchema, 'The created entity; trust starts at 0.5.', LOCATION_HEADER),
          ...problemResponses(413, 415),
        },
      },
      config: { scopes: ['soul:write'] },
    },
    async (request, reply) => {
      const { entity, created } = await soul.upsertEntity(upsertEntityRequest(request.params.id, request.body), request.downstream);
      const json = entityToJson(entity);
      if (!created) return reply.code(200).send(json);
      return reply.code(201).header('location', `${app.prefix}/entities/${encodeURIComponent(json.id)}`).send(json);
    },
  );

  app.get(
    '/entities/:id',
    {
      schema: {
        operationId: 'getEntity',
        querystring: NoQuery,
        summary: 'Read an entity',
        tags,
        params: EntityIdParams,
        response: { 200: described(EntitySchema, 'The entity.'), ...problemResponses(404) },
      },
      config: { scopes: ['soul:read'] },
    },
    async (request) => entityToJson((await soul.getEntity({ id: request.params.id }, request.downstream)).entity),
  );

  app.post(
    '/entities/:id/interactions',
    {
      schema: {
        operationId: 'recordInteraction',
        querystring: NoQuery,
        summary: 'Record an interaction with an entity; trust moves with its valence',
        tags,
        params: EntityIdParams,
        body: RecordInteractionBody,
        response: { 201: described(RecordInteractionResult, 'The entity after the interaction, and the interaction.'), ...problemResponses(404, 413, 415) },
      },
      config: { scopes: ['soul:write'], fieldAliases: { entityId: 'path.id' } },
    },
    async (request, reply) => {
      const response = await soul.recordInteraction(recordInteractionRequest(request.params.id, request.body), request.downstream);
      return reply.code(201).send(recordInteractionResult(response));
    },
  );
};
