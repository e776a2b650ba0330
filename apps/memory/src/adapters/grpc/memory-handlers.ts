import { memory as pb } from '@jamey/proto';
import type { ServiceHandlers } from '@jamey/rpc';
import type { MemoryService } from '../../domain/memory-service.js';
import { layerFromProto, toProtoMemory } from '../../domain/proto-mapping.js';

/** gRPC handlers of `jamey.memory.v1.MemoryService`. */
export function createMemoryHandlers(service: MemoryService): ServiceHandlers<pb.MemoryServiceServer> {
  return {
    async storeMemory(request, { signal }) {
      const memory = await service.store(
        {
          content: request.content,
          layer: layerFromProto(request.layer),
          tags: request.tags,
          importance: request.importance,
        },
        signal,
      );
      return { memory: toProtoMemory(memory) };
    },

    async getMemory(request, { signal }) {
      return { memory: toProtoMemory(await service.get(request.id, signal)) };
    },

    async searchMemories(request, { signal }) {
      const page = await service.search(
        {
          query: request.query,
          layer: layerFromProto(request.layer),
          pageSize: request.page?.pageSize ?? 0,
          pageToken: request.page?.pageToken ?? '',
        },
        signal,
      );
      return {
        hits: page.hits.map((hit) => ({ memory: toProtoMemory(hit.memory), rank: hit.rank })),
        page: { nextPageToken: page.nextPageToken },
      };
    },

    async deleteMemory(request, { signal }) {
      await service.delete(request.id, signal);
      return {};
    },
  };
}
