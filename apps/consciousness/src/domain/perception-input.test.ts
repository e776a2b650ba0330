import { isJameyError } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { validatePerceiveInput, type PerceiveInput } from './perception-input.js';

const valid: PerceiveInput = { input: ' hello ', source: ' chat ', salience: 0.5, entityId: 'user:42' };

function fieldOf(request: PerceiveInput): string | undefined {
  try {
    validatePerceiveInput(request);
  } catch (error) {
    if (isJameyError(error) && error.code === 'INVALID_ARGUMENT') return error.details.field;
    throw error;
  }
  return undefined;
}

describe('validatePerceiveInput', () => {
  it('trims input and source and keeps the entity id', () => {
    expect(validatePerceiveInput(valid)).toEqual({ input: 'hello', source: 'chat', salience: 0.5, entityId: 'user:42' });
  });

  it('treats an empty entity id as none', () => {
    expect(validatePerceiveInput({ ...valid, entityId: '' }).entityId).toBeUndefined();
    expect(validatePerceiveInput({ ...valid, entityId: undefined }).entityId).toBeUndefined();
  });

  it('accepts the boundaries', () => {
    expect(fieldOf({ ...valid, input: 'x'.repeat(10_000), source: 's'.repeat(200), salience: 0 })).toBeUndefined();
    expect(fieldOf({ ...valid, salience: 1, entityId: 'A'.repeat(128) })).toBeUndefined();
    expect(fieldOf({ ...valid, entityId: 'a.b_c:d-E9' })).toBeUndefined();
  });

  it.each([
    ['input', { input: '   ' }],
    ['input', { input: 'x'.repeat(10_001) }],
    ['source', { source: '' }],
    ['source', { source: 's'.repeat(201) }],
    ['salience', { salience: -0.01 }],
    ['salience', { salience: 1.01 }],
    ['salience', { salience: Number.NaN }],
    ['salience', { salience: Number.POSITIVE_INFINITY }],
    ['entity_id', { entityId: 'has space' }],
    ['entity_id', { entityId: 'slash/no' }],
    ['entity_id', { entityId: 'A'.repeat(129) }],
  ] as const)('rejects a bad %s', (field, patch) => {
    expect(fieldOf({ ...valid, ...patch })).toBe(field);
  });
});

describe('text Postgres cannot store', () => {
  it('rejects NUL in input and source, naming the field', () => {
    expect(fieldOf({ ...valid, input: 'a\u0000b' })).toBe('input');
    expect(fieldOf({ ...valid, source: 'c\u0000' })).toBe('source');
  });
});
