import { createManualClock, createSeededRandom } from '@jamey/core';
import { describe, expect, it, vi } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';
import { createDegradationManager } from './degradation.js';
import { invalidArgument, unavailable } from './test-support/fake-time.js';

function setup() {
  const clock = createManualClock();
  const breaker = createCircuitBreaker({ name: 'memory', clock, random: createSeededRandom(1), strategy: { kind: 'consecutive', threshold: 1 }, breakDuration: 1_000 });
  const manager = createDegradationManager({ clock, recoveryStepMs: 10_000 });
  const changes: string[] = [];
  manager.events.on('OnDegradationLevelChanged', ({ dependency, from, to, reason }) => changes.push(`${dependency}:${from}>${to}:${reason}`));
  const stopWatching = manager.watch('memory', breaker);
  const fail = () => breaker.execute(() => Promise.reject(unavailable())).catch(() => undefined);
  const succeed = () => breaker.execute(() => 'ok');
  return { clock, breaker, manager, changes, stopWatching, fail, succeed };
}

describe('degradation manager', () => {
  it('each open steps one level down; a close steps up, then one level per recovery step', async () => {
    const t = setup();
    t.manager.track('soul');
    expect(t.manager.levels()).toEqual({ memory: 'full', soul: 'full' });
    await t.fail();
    expect(t.manager.level('memory')).toBe('degraded');
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1_000);
      await t.fail(); // the half-open trial fails: re-open
    }
    expect(t.manager.level('memory')).toBe('offline');
    t.clock.advance(1_000);
    await t.succeed();
    expect(t.breaker.state).toBe('closed');
    expect(t.manager.level('memory')).toBe('minimal');
    t.clock.advance(9_999);
    expect(t.manager.level('memory')).toBe('minimal');
    t.clock.advance(1);
    expect(t.manager.level('memory')).toBe('degraded');
    t.clock.advance(25_000); // reads may be rare: every step due is applied
    expect(t.manager.levels()).toEqual({ memory: 'full', soul: 'full' });
    expect(t.changes).toEqual([
      'memory:full>degraded:circuit-opened',
      'memory:degraded>minimal:circuit-opened',
      'memory:minimal>offline:circuit-opened',
      'memory:offline>minimal:recovered',
      'memory:minimal>degraded:recovered',
      'memory:degraded>full:recovered',
    ]);
  });

  it('a re-open during recovery stops the climb', async () => {
    const t = setup();
    await t.fail();
    t.clock.advance(1_000);
    await t.fail();
    t.clock.advance(1_000);
    await t.succeed(); // minimal -> degraded
    expect(t.manager.level('memory')).toBe('degraded');
    await t.fail(); // closed breaker (threshold 1) opens again
    expect(t.manager.level('memory')).toBe('minimal');
    t.clock.advance(100_000);
    expect(t.manager.level('memory')).toBe('minimal');
  });

  it('isolation goes straight to offline; a manual level holds until the breaker moves it', async () => {
    const t = setup();
    const hold = t.breaker.isolate();
    expect(t.manager.level('memory')).toBe('offline');
    hold.release();
    expect(t.manager.level('memory')).toBe('minimal');
    t.manager.setLevel('soul', 'minimal');
    t.clock.advance(100_000);
    expect(t.manager.level('soul')).toBe('minimal');
    t.stopWatching();
    await t.fail();
    expect(t.manager.level('memory')).toBe('full'); // no longer watched: the old recovery went on
  });

  it('watching a breaker that is already open degrades at once', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock, random: createSeededRandom(1), strategy: { kind: 'consecutive', threshold: 1 } });
    await breaker.execute(() => Promise.reject(unavailable())).catch(() => undefined);
    const manager = createDegradationManager({ clock });
    manager.watch('soul', breaker);
    expect(manager.level('soul')).toBe('degraded');
    expect(manager.level('never-seen')).toBe('full');
  });

  it('runs an operation with its registered fallback, marking degraded answers', async () => {
    const t = setup();
    const fallback = vi.fn(({ level, error }: { level: string; error: unknown }) => ({ context: [] as string[], level, failed: error !== undefined }));
    const recall = t.manager.registerFallback('perceive.recall', { dependency: 'memory', fallback });
    await expect(recall.execute(() => ({ context: ['m1'], level: 'full', failed: false }))).resolves.toEqual({
      value: { context: ['m1'], level: 'full', failed: false },
      degraded: false,
      dependency: 'memory',
      level: 'full',
    });
    // A breaker fast-fail (or any transient failure) is answered by the fallback.
    await t.fail();
    const primary = vi.fn(() => t.breaker.execute(() => ({ context: ['m2'], level: 'x', failed: false })));
    const degraded = await t.manager.execute('perceive.recall', primary);
    expect(degraded).toMatchObject({ degraded: true, level: 'degraded', value: { context: [], failed: true } });
    // Permanent errors are the caller's problem, not the dependency's.
    await expect(recall.execute(() => Promise.reject(invalidArgument()))).rejects.toThrow('invalid');
    await expect(t.manager.execute('unknown', () => 1)).rejects.toBeInstanceOf(RangeError);
  });

  it('skips the primary at its skip level', async () => {
    const t = setup();
    const optional = t.manager.registerFallback('enrich', { dependency: 'memory', skipAt: 'degraded', fallback: () => 'skipped' });
    const primary = vi.fn(() => 'enriched');
    await expect(optional.execute(primary)).resolves.toMatchObject({ value: 'enriched', degraded: false });
    await t.fail();
    await expect(optional.execute(primary)).resolves.toMatchObject({ value: 'skipped', degraded: true, level: 'degraded' });
    expect(primary).toHaveBeenCalledTimes(1);
  });
});
