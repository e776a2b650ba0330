/** The verified-token cache: one signature check per token per TTL, never past exp, failures never kept. */
import type { Clock } from '@jamey/core';
import { AuthError } from '@jamey/security';
import { describe, expect, it } from 'vitest';
import { createTestVerifier, mintTestToken } from './testing/test-tokens.js';
import { cacheVerifiedTokens } from './token-cache.js';

function setup(options: { ttlMs?: number; maxEntries?: number } = {}) {
  let now = Date.now();
  const clock: Clock = { now: () => now };
  const real = createTestVerifier(clock);
  let checks = 0;
  const counted = { ...real, verify: (token: string) => ((checks += 1), real.verify(token)) };
  const cached = cacheVerifiedTokens(counted, { clock, ...options });
  return { clock, cached, checks: () => checks, advance: (ms: number) => void (now += ms) };
}

describe('cacheVerifiedTokens', () => {
  it('checks a token once per TTL, and again after it', async () => {
    const { cached, checks, advance, clock } = setup({ ttlMs: 30_000 });
    const token = await mintTestToken({ clock, subject: 'alice' });
    for (let i = 0; i < 5; i += 1) expect((await cached.authenticate(`Bearer ${token}`)).subject).toBe('alice');
    expect(checks()).toBe(1);
    advance(30_001);
    await cached.authenticate(`Bearer ${token}`);
    expect(checks()).toBe(2);
  });

  it('never trusts a token past its exp: it is checked again, and refused', async () => {
    const { cached, advance, clock } = setup({ ttlMs: 600_000 });
    const token = await mintTestToken({ clock, ttlSec: 10 });
    await cached.authenticate(`Bearer ${token}`);
    // Past exp and the verifier's 30 s tolerance.
    advance(41_000);
    await expect(cached.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('keeps no failure, and parses the header as the verifier does', async () => {
    const { cached, checks, clock } = setup();
    const token = await mintTestToken({ clock });
    const tampered = `${token.slice(0, -4)}AAAA`;
    for (let i = 0; i < 2; i += 1) await expect(cached.authenticate(`Bearer ${tampered}`)).rejects.toBeInstanceOf(AuthError);
    expect(checks()).toBe(2);
    await expect(cached.authenticate(undefined)).rejects.toMatchObject({ reason: 'missing' });
    await expect(cached.authenticate(`Basic ${token}`)).rejects.toMatchObject({ reason: 'missing' });
    await expect(cached.authenticate('Bearer a b')).rejects.toMatchObject({ reason: 'malformed' });
  });

  it('forgets the least recently used token beyond its size', async () => {
    const { cached, checks, clock } = setup({ maxEntries: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((subject) => mintTestToken({ clock, subject })));
    for (const token of [a, b, a, c]) await cached.verify(token!);
    expect(checks()).toBe(3);
    await cached.verify(a!);
    expect(checks()).toBe(3);
    await cached.verify(b!);
    expect(checks()).toBe(4);
  });
});
