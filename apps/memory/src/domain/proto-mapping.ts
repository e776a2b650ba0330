import { invalidArgument } from '@jamey/core';
import { memory as pb } from '@jamey/proto';
import { MEMORY_LAYERS, type Memory, type MemoryLayer } from './memory.js';

const LAYER_TO_PROTO: Readonly<Record<MemoryLayer, pb.MemoryLayer>> = {
  sensory: pb.MemoryLayer.MEMORY_LAYER_SENSORY,
  working: pb.MemoryLayer.MEMORY_LAYER_WORKING,
  episodic: pb.MemoryLayer.MEMORY_LAYER_EPISODIC,
  semantic: pb.MemoryLayer.MEMORY_LAYER_SEMANTIC,
  procedural: pb.MemoryLayer.MEMORY_LAYER_PROCEDURAL,
};

/** The proto enum value of a layer. */
export function layerToProto(layer: MemoryLayer): pb.MemoryLayer {
  return LAYER_TO_PROTO[layer];
}

/** A layer from its proto enum value; UNSPECIFIED is `undefined`. @throws INVALID_ARGUMENT */
export function layerFromProto(value: pb.MemoryLayer, field = 'layer'): MemoryLayer | undefined {
  if (value === pb.MemoryLayer.MEMORY_LAYER_UNSPECIFIED) return undefined;
  const layer = MEMORY_LAYERS.find((name) => LAYER_TO_PROTO[name] === value);
  if (!layer) throw invalidArgument(field, `unknown memory layer ${value}`);
  return layer;
}

/** The proto form of a memory, used in responses and events. */
export function toProtoMemory(memory: Memory): pb.Memory {
  return {
    id: memory.id,
    content: memory.content,
    layer: layerToProto(memory.layer),
    tags: [...memory.tags],
    importance: memory.importance,
    createTime: memory.createdAt,
  };
}
