import { describe, expect, it } from 'vitest';
import { JameyError } from '@jamey/core';
import { decodeCursor, encodeCursor, MEMORY_LIMITS, pageSize, validateQuery, validateStoreInput } from './memory.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(JameyError);
    expect((error as JameyError).code).toBe('INVALID_ARGUMENT');
    return (error as JameyError).details.field;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('validateStoreInput', () => {
  it('trims, de-duplicates tags and applies defaults', () => {
    expect(validateStoreInput({ content: '  hello  ', tags: ['a', ' a', 'b'] })).toEqual({
      content: 'hello',
      layer: 'episodic',
      tags: ['a', 'b'],
      importance: 0.5,
    });
  });

  it('names the offending field', () => {
    expect(fieldOf(() => validateStoreInput({ content: '   ' }))).toBe('content');
    expect(fieldOf(() => validateStoreInput({ content: 'x'.repeat(MEMORY_LIMITS.contentMaxChars + 1) }))).toBe('content');
    expect(fieldOf(() => validateStoreInput({ content: 'x', tags: [''] }))).toBe('tags');
    expect(fieldOf(() => validateStoreInput({ content: 'x', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }))).toBe('tags');
    expect(fieldOf(() => validateStoreInput({ content: 'x', importance: 1.5 }))).toBe('importance');
    expect(fieldOf(() => validateStoreInput({ content: 'x', importance: Number.NaN }))).toBe('importance');
    expect(fieldOf(() => validateStoreInput({ content: 'a\u0000b' }))).toBe('content');
    expect(fieldOf(() => validateStoreInput({ content: 'x', tags: ['a\u0000'] }))).toBe('tags');
  });
});

describe('validateQuery', () => {
  it('trims and names the field of a bad query', () => {
    expect(validateQuery('  tea or coffee ')).toBe('tea or coffee');
    expect(fieldOf(() => validateQuery(' '))).toBe('query');
    expect(fieldOf(() => validateQuery('q'.repeat(MEMORY_LIMITS.queryMaxChars + 1)))).toBe('query');
    expect(fieldOf(() => validateQuery('a\u0000b'))).toBe('query');
  });
});

describe('cursors', () => {
  it('round-trips and rejects tokens it did not issue', () => {
    const cursor = { rank: 0.123456789, id: '0190d8f4-0000-7000-8000-000000000000' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(decodeCursor('')).toBeUndefined();
    expect(fieldOf(() => decodeCursor('not-a-token'))).toBe('page_token');
    expect(fieldOf(() => decodeCursor(Buffer.from('{"a":1}').toString('base64url')))).toBe('page_token');
    // The right shape, but not a position the service could have issued.
    expect(fieldOf(() => decodeCursor(Buffer.from('[0.1,"not-a-uuid"]').toString('base64url')))).toBe('page_token');
    expect(fieldOf(() => decodeCursor(Buffer.from(`[1e999,"${cursor.id}"]`).toString('base64url')))).toBe('page_token');
  });

  it('clamps page sizes', () => {
    expect(pageSize(0)).toBe(MEMORY_LIMITS.defaultPageSize);
    expect(pageSize(5)).toBe(5);
    expect(pageSize(10_000)).toBe(MEMORY_LIMITS.maxPageSize);
    expect(fieldOf(() => pageSize(-1))).toBe('page_size');
  });
});
