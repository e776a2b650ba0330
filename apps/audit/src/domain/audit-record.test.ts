import { JameyError } from '@jamey/core';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, filterDigest, pageSize, validateFilter } from './audit-record.js';

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
  const filter = validateFilter({ type: 'gateway.request_completed', outcome: 'denied' });

  it('round-trip a sequence for the same filter and start at 0 for an empty token', () => {
    expect(decodeCursor('', filter)).toBe(0);
    expect(decodeCursor(encodeCursor(1, filter), filter)).toBe(1);
    expect(decodeCursor(encodeCursor(9_007_199_254_740_991, {}), {})).toBe(9_007_199_254_740_991);
  });

  it('are opaque: the filter shows only as a digest', () => {
    const token = encodeCursor(42, validateFilter({ actor: 'alice' }));
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(token, 'base64url').toString('utf8')).not.toContain('alice');
  });

  it('reject a token issued for another filter, naming page_token', () => {
    const token = encodeCursor(5, filter);
    const others = [
      {},
      { ...filter, outcome: 'allowed' as const },
      { ...filter, actor: 'alice' },
      { ...filter, action: 'GET /v1/memories' },
      { ...filter, resource: 'memory' },
      { ...filter, type: 'memory.encoded' },
      { ...filter, source: 'memory' },
      { ...filter, subject: 's' },
      { ...filter, startTime: new Date(0) },
      { ...filter, endTime: new Date(1) },
    ];
    for (const other of others) {
      expect(() => decodeCursor(token, other)).toThrow(/other filters/);
      expect(fieldOf(() => decodeCursor(token, other))).toBe('page_token');
    }
  });

  it('tell an absent filter from an empty-looking one', () => {
    // null and "" must not collide: JSON keeps them apart.
    expect(filterDigest({ actor: 'null' })).not.toBe(filterDigest({}));
    expect(filterDigest({ actor: 'a', action: 'b' })).not.toBe(filterDigest({ actor: 'b', action: 'a' }));
  });

  const forged = (text: string) => Buffer.from(text).toString('base64url');
  const digest = filterDigest({});
  it.each([
    'garbage!',
    'AAAA',
    forged('a1:7'),
    forged(`a2.0.${digest}`),
    forged(`a2.-4.${digest}`),
    forged(`a2.1.5.${digest}`),
    forged(`a2.99999999999999999.${digest}`),
    forged(`a2.7.${digest}x`),
    forged('a2.7.'),
    'A'.repeat(200),
  ])('rejects %s as page_token', (token) => {
    expect(fieldOf(() => decodeCursor(token, {}))).toBe('page_token');
  });
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
      actor: undefined,
      action: undefined,
      resource: undefined,
      outcome: undefined,
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

  it('accepts the six outcomes and rejects anything else as outcome', () => {
    for (const outcome of ['allowed', 'unauthenticated', 'denied', 'throttled', 'failed', 'error']) {
      expect(validateFilter({ outcome }).outcome).toBe(outcome);
    }
    expect(fieldOf(() => validateFilter({ outcome: 'DENIED' }))).toBe('outcome');
    expect(fieldOf(() => validateFilter({ outcome: 'ok' }))).toBe('outcome');
  });

  it('bounds the access filters and names each field', () => {
    for (const field of ['actor', 'action', 'resource'] as const) {
      expect(validateFilter({ [field]: ' x ' })[field]).toBe('x');
      expect(fieldOf(() => validateFilter({ [field]: 'x'.repeat(257) }))).toBe(field);
      expect(fieldOf(() => validateFilter({ [field]: 'a\u0000' }))).toBe(field);
    }
  });
});
