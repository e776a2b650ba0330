import { isJameyError } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { SOUL_LIMITS, validateEntityId, validateName, validateNote } from './entity.js';

function rejection(fn: () => unknown): { field: string | undefined; message: string } | undefined {
  try {
    fn();
  } catch (error) {
    if (isJameyError(error) && error.code === 'INVALID_ARGUMENT') return { field: error.details.field, message: error.message };
    throw error;
  }
  return undefined;
}

describe('validateEntityId', () => {
  it('accepts ids of 1..128 characters of [A-Za-z0-9._:-], unchanged', () => {
    for (const id of ['a', 'user:42', 'Agent-7.alpha_beta', 'x'.repeat(SOUL_LIMITS.entityIdMaxChars)]) {
      expect(validateEntityId(id)).toBe(id);
    }
  });

  it('rejects empty, too long and ids with other characters', () => {
    for (const id of ['', 'x'.repeat(129), 'has space', ' lead', 'slash/y', 'é', 'semi;colon', 'a\n']) {
      expect(rejection(() => validateEntityId(id))?.field).toBe('id');
    }
  });

  it('names the field it was given', () => {
    expect(rejection(() => validateEntityId('', 'entity_id'))?.field).toBe('entity_id');
  });
});

describe('validateName', () => {
  it('trims and accepts 1..200 characters', () => {
    expect(validateName('  Ada  ')).toBe('Ada');
    expect(validateName('n'.repeat(200))).toHaveLength(200);
  });

  it('counts code points, not UTF-16 units', () => {
    const emoji = '🙂'.repeat(200); // 400 UTF-16 units, 200 characters
    expect(validateName(emoji)).toBe(emoji);
    expect(rejection(() => validateName('🙂'.repeat(201)))?.field).toBe('name');
  });

  it('rejects blank and too long names', () => {
    expect(rejection(() => validateName(''))?.field).toBe('name');
    expect(rejection(() => validateName('   \t'))?.field).toBe('name');
    expect(rejection(() => validateName('n'.repeat(201)))?.field).toBe('name');
  });
});

describe('validateNote', () => {
  it('accepts empty and up to 1000 characters, trimmed', () => {
    expect(validateNote('')).toBe('');
    expect(validateNote(' ok ')).toBe('ok');
    expect(validateNote('n'.repeat(1000))).toHaveLength(1000);
  });

  it('rejects notes over 1000 characters', () => {
    expect(rejection(() => validateNote('n'.repeat(1001)))?.field).toBe('note');
  });
});

describe('text Postgres cannot store', () => {
  it('rejects NUL in names and notes, naming the field', () => {
    expect(rejection(() => validateName('Ada\u0000'))?.field).toBe('name');
    expect(rejection(() => validateNote('hi\u0000'))?.field).toBe('note');
  });
});
