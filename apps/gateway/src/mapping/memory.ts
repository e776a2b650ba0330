import { memory as pb } from '@jamey/proto';
import type {
  MemoryJson,
  MemoryLayerName,
  SearchMemoriesQueryJson,
  SearchMemoriesResultJson,
  StoreMemoryBodyJson,
} from '../schemas/memory.js';
import { enumMapping, isoTime, nextPageToken, pageRequest, required } from './common.js';

const layers = enumMapping<MemoryLayerName, pb.MemoryLayer>('MemoryLayer', {
  sensory: pb.MemoryLayer.MEMORY_LAYER_SENSORY,
  working: pb.MemoryLayer.MEMORY_LAYER_WORKING,
  episodic: pb.MemoryLayer.MEMORY_LAYER_EPISODIC,
  semantic: pb.MemoryLayer.MEMORY_LAYER_SEMANTIC,
  procedural: pb.MemoryLayer.MEMORY_LAYER_PROCEDURAL,
});

/** A JSON layer name as the proto enum; absent means UNSPECIFIED (the service's default). */
export function layerToProto(layer: MemoryLayerName | undefined): pb.MemoryLayer {
  return layer === undefined ? pb.MemoryLayer.MEMORY_LAYER_UNSPECIFIED : layers.toProto(layer);
}

/** A proto layer as its lowercase JSON name. */
export const layerFromProto = layers.fromProto;

/** A proto memory as JSON. */
export function memoryToJson(memory: pb.Memory | undefined): MemoryJson {
  const m = required(memory, 'memory');
  return {
    id: m.id,
    content: m.content,
    layer: layerFromProto(m.layer),
    tags: [...m.tags],
    importance: m.importance,
    createTime: isoTime(m.createTime, 'memory.create_time'),
  };
}

/** The body of `POST /v1/memories` as a StoreMemory request. */
export function storeMemoryRequest(body: StoreMemoryBodyJson): pb.StoreMemoryRequest {
  return {
    content: body.content,
    layer: layerToProto(body.layer),
    tags: [...(body.tags ?? [])],
    importance: body.importance,
  };
}

/** The query of `GET /v1/memories` as a SearchMemories request. */
export function searchMemoriesRequest(query: SearchMemoriesQueryJson): pb.SearchMemoriesRequest {
  return { query: query.query, layer: layerToProto(query.layer), page: pageRequest(query.pageSize, query.pageToken) };
}

/** A SearchMemories response as JSON. */
export function searchMemoriesResult(response: pb.SearchMemoriesResponse): SearchMemoriesResultJson {
  return {
    items: response.hits.map((hit) => ({ memory: memoryToJson(hit.memory), rank: hit.rank })),
    nextPageToken: nextPageToken(response.page),
  };
}
