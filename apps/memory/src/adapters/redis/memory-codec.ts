import type { CacheCodec } from '@jamey/cache';
import { MEMORY_LAYERS, type Memory, type MemoryLayer } from '../../domain/memory.js';

/** A memory as JSON in Redis: `createdAt` is an ISO-8601 UTC string. */
interface StoredMemory {
  id: string;
  content: string;
  layer: MemoryLayer;
  tags: string[];
  importance: number;
  createdAt: string;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Memories in Redis. JSON alone would turn `createdAt` into a string, so it is written as an
 * ISO string and read back into a `Date`; every field is checked on the way in, and an entry in
 * any other shape (an older format, a bug) throws, which the cache treats as a miss.
 */
export const memoryCodec: CacheCodec<Memory> = {
  encode(memory) {
    const stored: StoredMemory = {
      id: memory.id,
      content: memory.content,
      layer: memory.layer,
      tags: [...memory.tags],
      importance: memory.importance,
      createdAt: memory.createdAt.toISOString(),
    };
    return JSON.stringify(stored);
  },

  decode(text) {
    const value = JSON.parse(text) as Partial<Record<keyof StoredMemory, unknown>> | null;
    if (typeof value !== 'object' || value === null) throw new TypeError('a cached memory must be an object');
    const { id, content, layer, tags, importance, createdAt } = value;
    if (typeof id !== 'string' || typeof content !== 'string') throw new TypeError('a cached memory needs a string id and content');
    if (!MEMORY_LAYERS.includes(layer as MemoryLayer)) throw new TypeError(`unknown layer ${String(layer)}`);
    if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) throw new TypeError('tags must be strings');
    if (typeof importance !== 'number' || !Number.isFinite(importance)) throw new TypeError('importance must be a number');
    if (typeof createdAt !== 'string' || !ISO_UTC.test(createdAt)) throw new TypeError('createdAt must be an ISO-8601 UTC time');
    const created = new Date(createdAt);
    if (Number.isNaN(created.getTime())) throw new TypeError('createdAt must be a valid time');
    return { id, content, layer: layer as MemoryLayer, tags: tags as string[], importance, createdAt: created };
  },
};
