import { describe, expect, it } from 'vitest';
import type { Memory } from '../../domain/memory.js';
import { memoryCodec } from './memory-codec.js';

const memory: Memory = {
  id: '0190a0b0-c0d0-7e00-8f00-000000000001',
  content: 'the sky was red',
  layer: 'semantic',
  tags: ['sky', 'colour'],
  importance: 0,
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
};

describe('memoryCodec', () => {
  it('round-trips a memory, createdAt as a Date with its milliseconds', () => {
    const decoded = memoryCodec.decode(memoryCodec.encode(memory));
    expect(decoded).toEqual(memory);
    expect(decoded.createdAt).toBeInstanceOf(Date);
    expect(JSON.parse(memoryCodec.encode(memory))).toMatchObject({ createdAt: '2026-01-02T03:04:05.678Z' });
  });

  it('rejects entries in any other shape', () => {
    const stored = JSON.parse(memoryCodec.encode(memory)) as Record<string, unknown>;
    for (const broken of [
      'null',
      '[]',
      'not json',
      JSON.stringify({ ...stored, layer: 'dreams' }),
      JSON.stringify({ ...stored, tags: [1] }),
      JSON.stringify({ ...stored, importance: '0.5' }),
      JSON.stringify({ ...stored, createdAt: 1767323045678 }),
      JSON.stringify({ ...stored, createdAt: '2026-01-02' }),
      JSON.stringify({ ...stored, createdAt: '2026-13-45T03:04:05.678Z' }),
      JSON.stringify({ ...stored, id: undefined }),
    ]) {
      expect(() => memoryCodec.decode(broken), broken).toThrow();
    }
  });
});
