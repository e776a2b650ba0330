import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { GatewayClients } from '../clients.js';
import { memoryToJson, searchMemoriesRequest, searchMemoriesResult, storeMemoryRequest } from '../mapping/memory.js';
import { described, LOCATION_HEADER, MemoryIdParams, NoQuery } from '../schemas/common.js';
import { MemorySchema, SearchMemoriesQuery, SearchMemoriesResult, StoreMemoryBody } from '../schemas/memory.js';
import { problemResponses } from '../schemas/problem.js';

/** Options of {@link memoryRoutes}. */
export interface MemoryRoutesOptions {
  readonly memory: GatewayClients['memory'];
}

const tags = ['memories'];

/** `/memories`: store, read, search and delete memories (MemoryService). */
export const memoryRoutes: FastifyPluginAsyncTypebox<MemoryRoutesOptions> = async (app, { memory }) => {
  app.post(
    '/memories',
    {
      schema: {
        operationId: 'storeMemory',
        querystring: NoQuery,
        summary: 'Store a memory',
        tags,
        body: StoreMemoryBody,
        response: { 201: described(MemorySchema, 'The stored memory.', LOCATION_HEADER), ...problemResponses(413, 415) },
      },
      config: { scopes: ['memory:write'] },
    },
    async (request, reply) => {
      const stored = memoryToJson((await memory.storeMemory(storeMemoryRequest(request.body), request.downstream)).memory);
      return reply.code(201).header('location', `${app.prefix}/memories/${encodeURIComponent(stored.id)}`).send(stored);
    },
  );

  app.get(
    '/memories/:id',
    {
      schema: {
        operationId: 'getMemory',
        querystring: NoQuery,
        summary: 'Read a memory',
        tags,
        params: MemoryIdParams,
        response: { 200: described(MemorySchema, 'The memory.'), ...problemResponses(404) },
      },
      config: { scopes: ['memory:read'] },
    },
    async (request) => memoryToJson((await memory.getMemory({ id: request.params.id }, request.downstream)).memory),
  );

  app.get(
    '/memories',
    {
      schema: {
        operationId: 'searchMemories',
        summary: 'Search memories by full text, best first',
        tags,
        querystring: SearchMemoriesQuery,
        response: { 200: described(SearchMemoriesResult, 'One page of hits.'), ...problemResponses() },
      },
      config: { scopes: ['memory:read'], fieldAliases: { 'page.pageSize': 'query.pageSize', 'page.pageToken': 'query.pageToken' } },
    },
    async (request) => searchMemoriesResult(await memory.searchMemories(searchMemoriesRequest(request.query), request.downstream)),
  );

  app.delete(
    '/memories/:id',
    {
      schema: {
        operationId: 'deleteMemory',
        querystring: NoQuery,
        summary: 'Delete a memory',
        tags,
        params: MemoryIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...problemResponses(404) },
      },
      config: { scopes: ['memory:write'] },
    },
    async (request, reply) => {
      await memory.deleteMemory({ id: request.params.id }, request.downstream);
      return reply.code(204).send(null);
    },
  );
};
