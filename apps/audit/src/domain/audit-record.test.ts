import { JameyError } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageSize, validateFilter } from './audit-record.js';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    if (error instanceof JameyError && error.code === 'INVALID_ARGUMENT') return error.details.field;
    throw error;
  }
  return undefined;
};

describe('page tokens', () => {
  it('round-trip a sequence and start at 0 for an empty token', () => {
    expect(decodeCursor('')).toBe(0);
    expect(decodeCursor(encodeCursor(1))).toBe(1);
    expect(decodeCursor(encodeCursor(9_007_199_254_740_991))).toBe(9_007_199_254_740_991);
  });

  it.each(['garbage!', 'AAAA', Buffer.from('a1:0').toString('base64url'), Buffer.from('a1:-4').toString('base64url'), Buffer.from('a1:1.5').toString('base64url'), Buffer.from('a1:99999999999999999').toString('base64url')])(
    'rejects %s as page_token',
    (token) => {
      expect(fieldOf(() => decodeCursor(token))).toBe('page_token');
    },
  );
});

describe('pageSize', () => {
  it('defaults 0 to 50 and caps at 500', () => {
    expect(pageSize(0)).toBe(50);
    expect(pageSize(7)).toBe(7);
    expect(pageSize(501)).toBe(500);
    expect(fieldOf(() => pageSize(-1))).toBe('page_size');
  });
});

describe('validateFilter', () => {
  it('treats blank text filters as absent and trims the rest', () => {
    expect(validateFilter({ type: '', source: '  ', subject: ' s ' })).toEqual({
      type: undefined,
      source: undefined,
      subject: 's',
      startTime: undefined,
      endTime: undefined,
    });
  });

  it('rejects an empty or inverted time range', () => {
    const t = new Date(Date.UTC(2026, 0, 1));
    expect(fieldOf(() => validateFilter({ startTime: t, endTime: t }))).toBe('end_time');
    expect(fieldOf(() => validateFilter({ startTime: new Date(t.getTime() + 1), endTime: t }))).toBe('end_time');
    expect(fieldOf(() => validateFilter({ startTime: t, endTime: new Date(t.getTime() + 1) }))).toBeUndefined();
  });

  it('rejects oversized text filters', () => {
    expect(fieldOf(() => validateFilter({ subject: 'x'.repeat(257) }))).toBe('subject');
  });

  it('rejects NUL in text filters, naming the field', () => {
    expect(fieldOf(() => validateFilter({ type: 'memory.\u0000' }))).toBe('type');
  });
});
