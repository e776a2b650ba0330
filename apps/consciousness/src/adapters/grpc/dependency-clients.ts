import { isJameyError } from '@jamey/core';
import { memory as memoryPb, soul as soulPb } from '@jamey/proto';
import type { PromiseClient } from '@jamey/rpc';
import type { MemoryRecall, TrustLookup } from '../../domain/ports.js';

/**
 * Memory's SearchMemories rejects queries longer than this (apps/memory `MEMORY_LIMITS.queryMaxChars`);
 * a perception may be up to 10000 characters, so only its beginning is used as the query.
 */
export const MEMORY_QUERY_MAX_CHARS = 1000;

/** {@link MemoryRecall} over `jamey.memory.v1.MemoryService/SearchMemories`. */
export function createGrpcMemoryRecall(client: PromiseClient<typeof memoryPb.MemoryServiceService>): MemoryRecall {
  return {
    async recall(query, limit, { deadline, signal }) {
      const response = await client.searchMemories(
        {
          query: query.slice(0, MEMORY_QUERY_MAX_CHARS),
          layer: memoryPb.MemoryLayer.MEMORY_LAYER_UNSPECIFIED,
          page: { pageSize: limit, pageToken: '' },
        },
        { deadline, signal },
      );
      return response.hits.flatMap((hit) =>
        hit.memory ? [{ memoryId: hit.memory.id, content: hit.memory.content, rank: hit.rank }] : [],
      );
    },
  };
}

/** {@link TrustLookup} over `jamey.soul.v1.SoulService/GetEntity`; an unknown entity has no trust. */
export function createGrpcTrustLookup(client: PromiseClient<typeof soulPb.SoulServiceService>): TrustLookup {
  return {
    async trustOf(entityId, { deadline, signal }) {
      try {
        const response = await client.getEntity({ id: entityId }, { deadline, signal });
        return response.entity?.trust;
      } catch (error) {
        if (isJameyError(error) && error.code === 'NOT_FOUND') return undefined;
        throw error;
      }
    },
  };
}
