import { memory as pb } from '@jamey/proto';
import { describe, expect, it } from 'vitest';
import { MEMORY_LAYERS } from '../schemas/memory.js';
import { layerFromProto, layerToProto, memoryToJson, searchMemoriesRequest, searchMemoriesResult, storeMemoryRequest } from './memory.js';

const createTime = new Date('2026-01-02T03:04:05.678Z');
const protoMemory: pb.Memory = {
  id: '0190a0b0-c0d0-7e00-8f00-000000000001',
  content: 'the sky was red',
  layer: pb.MemoryLayer.MEMORY_LAYER_SEMANTIC,
  tags: ['sky'],
  importance: 0.25,
  createTime,
};

describe('memory mapping', () => {
  it('maps every JSON layer to a distinct proto layer and back', () => {
    const values = MEMORY_LAYERS.map(layerToProto);
    expect(new Set(values).size).toBe(MEMORY_LAYERS.length);
    expect(values).not.toContain(pb.MemoryLayer.MEMORY_LAYER_UNSPECIFIED);
    expect(values.map(layerFromProto)).toEqual([...MEMORY_LAYERS]);
  });

  it('sends UNSPECIFIED when no layer is given, so the service applies its default', () => {
    expect(layerToProto(undefined)).toBe(pb.MemoryLayer.MEMORY_LAYER_UNSPECIFIED);
  });

  it('rejects a layer the gateway does not know, as a contract violation', () => {
    expect(() => layerFromProto(pb.MemoryLayer.MEMORY_LAYER_UNSPECIFIED)).toThrow(/MemoryLayer value 0/);
    expect(() => layerFromProto(42)).toThrow(/MemoryLayer value 42/);
  });

  it('maps a memory to lowerCamelCase JSON with an ISO-8601 UTC time', () => {
    expect(memoryToJson(protoMemory)).toEqual({
      id: protoMemory.id,
      content: 'the sky was red',
      layer: 'semantic',
      tags: ['sky'],
      importance: 0.25,
      createTime: '2026-01-02T03:04:05.678Z',
    });
  });

  it('fails loudly when the downstream leaves out the memory or its time', () => {
    expect(() => memoryToJson(undefined)).toThrow('downstream response lacks memory');
    expect(() => memoryToJson({ ...protoMemory, createTime: undefined })).toThrow('memory.create_time');
  });

  it('maps a store body, leaving absent optional fields to the service', () => {
    expect(storeMemoryRequest({ content: 'x' })).toEqual({ content: 'x', layer: 0, tags: [], importance: undefined });
    expect(storeMemoryRequest({ content: 'x', layer: 'working', tags: ['a'], importance: 0 })).toEqual({
      content: 'x',
      layer: pb.MemoryLayer.MEMORY_LAYER_WORKING,
      tags: ['a'],
      importance: 0,
    });
  });

  it('maps a search query and its page', () => {
    expect(searchMemoriesRequest({ query: 'sky' })).toEqual({ query: 'sky', layer: 0, page: { pageSize: 0, pageToken: '' } });
    expect(searchMemoriesRequest({ query: 'sky', layer: 'episodic', pageSize: 10, pageToken: 't' })).toEqual({
      query: 'sky',
      layer: pb.MemoryLayer.MEMORY_LAYER_EPISODIC,
      page: { pageSize: 10, pageToken: 't' },
    });
  });

  it('maps search hits and leaves nextPageToken out on the last page', () => {
    const last = searchMemoriesResult({ hits: [{ memory: protoMemory, rank: 0.9 }], page: { nextPageToken: '' } });
    expect(last.items).toEqual([{ memory: memoryToJson(protoMemory), rank: 0.9 }]);
    expect(last).not.toHaveProperty('nextPageToken', expect.anything());
    expect(searchMemoriesResult({ hits: [], page: { nextPageToken: 'abc' } }).nextPageToken).toBe('abc');
    expect(searchMemoriesResult({ hits: [], page: undefined }).nextPageToken).toBeUndefined();
  });
});
