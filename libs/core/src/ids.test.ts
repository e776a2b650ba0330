import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.js';
import { createIdGenerator, isUuid } from './ids.js';
import { createSeededRandom } from './random.js';

describe('createIdGenerator', () => {
  it('produces UUIDv7 values that sort by clock time', () => {
    const clock = createManualClock();
    const nextId = createIdGenerator(clock, createSeededRandom(1));
    const first = nextId();
    clock.advance(5);
    const second = nextId();
    expect(isUuid(first)).toBe(true);
    expect(first[14]).toBe('7');
    expect(first < second).toBe(true);
    expect(parseInt(first.replaceAll('-', '').slice(0, 12), 16)).toBe(clock.now() - 5);
  });

  it('is deterministic for a seeded random source', () => {
    const a = createIdGenerator(createManualClock(), createSeededRandom(7));
    const b = createIdGenerator(createManualClock(), createSeededRandom(7));
    expect(a()).toBe(b());
  });
});

describe('assertStorableText', () => {
  it('rejects NUL and names the field, and accepts other control characters', async () => {
    const { assertStorableText } = await import('./text.js');
    expect(() => assertStorableText('note', 'a\u0000b')).toThrow(/note must not contain NUL/);
    expect(() => assertStorableText('note', 'tab\tnewline\n')).not.toThrow();
  });
});
