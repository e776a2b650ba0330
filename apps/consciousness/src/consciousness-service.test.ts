import { fileURLToPath } from 'node:url';
import { createIdGenerator, createManualClock, createSeededRandom, dependencyUnavailable, isJameyError } from '@jamey/core';
import { createMutex, migrate, openDatabase, type Database } from '@jamey/data';
import { common, consciousnessEvents } from '@jamey/proto';
import { createOutbox, eventsMigrationsDir, eventsMigrationsTable } from '@jamey/events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgWorkspaceRepository } from './adapters/pg/workspace-repository.js';
import {
  CONTEXT_MEMORY_LIMIT,
  MAX_APPEND_ATTEMPTS,
  WORKSPACE_STREAM,
  createConsciousnessService,
  enrichmentDeadline,
  type ConsciousnessService,
} from './domain/consciousness-service.js';
import {
  ConcurrencyConflictError,
  type DependencyCallOptions,
  type MemoryRecall,
  type TrustLookup,
  type WorkspaceRepository,
} from './domain/ports.js';

const migrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));
const BUDGET_MS = 1000;

interface FakeMemory extends MemoryRecall {
  calls: { query: string; limit: number; options: DependencyCallOptions }[];
  failure: Error | undefined;
}

interface FakeTrust extends TrustLookup {
  calls: { entityId: string; options: DependencyCallOptions }[];
  failure: Error | undefined;
}

/** A memory port fake: answers one memory (or throws `failure`) and records each call. */
function fakeMemory(): FakeMemory {
  const fake: FakeMemory = {
    calls: [],
    failure: undefined,
    async recall(query, limit, options) {
      fake.calls.push({ query, limit, options });
      if (fake.failure) throw fake.failure;
      return [{ memoryId: 'm1', content: 'a memory', rank: 0.9 }];
    },
  };
  return fake;
}

/** A trust port fake: knows `user:ada` (0.8), not others; throws `failure` when set. */
function fakeTrust(): FakeTrust {
  const known = new Map<string, number>([['user:ada', 0.8]]);
  const fake: FakeTrust = {
    calls: [],
    failure: undefined,
    async trustOf(entityId, options) {
      fake.calls.push({ entityId, options });
      if (fake.failure) throw fake.failure;
      return known.get(entityId);
    },
  };
  return fake;
}

describe('enrichmentDeadline', () => {
  it('is the budget when the caller set no deadline', () => {
    expect(enrichmentDeadline(1000, undefined, 500)).toBe(1500);
  });

  it('never exceeds the caller deadline and leaves a quarter of it for recording', () => {
    expect(enrichmentDeadline(1000, 1400, 500)).toBe(1300);
    expect(enrichmentDeadline(1000, 10_000, 500)).toBe(1500);
    expect(enrichmentDeadline(1000, 900, 500)).toBe(1000);
  });
});

describe('consciousness service', () => {
  const clock = createManualClock();
  let db: Database;
  let memory: FakeMemory;
  let trust: FakeTrust;
  let repository: WorkspaceRepository;
  let wakes: number;

  function build(overrides: { repository?: WorkspaceRepository } = {}): ConsciousnessService {
    return createConsciousnessService({
      db,
      repository: overrides.repository ?? repository,
      memory,
      trust,
      outbox: createOutbox({ source: 'consciousness', clock, ids: createIdGenerator(clock, createSeededRandom(1)) }),
      clock,
      ids: createIdGenerator(clock, createSeededRandom(2)),
      logger: { warn: () => undefined },
      writeLock: createMutex(),
      dependencyBudgetMs: BUDGET_MS,
      onEventsCommitted: () => {
        wakes += 1;
      },
    });
  }

  async function outboxEvents() {
    const { rows } = await db.query<{ topic: string; key: string; envelope: Buffer }>(
      'SELECT topic, key, envelope FROM outbox ORDER BY seq',
    );
    return rows.map((row) => ({ topic: row.topic, key: row.key, envelope: common.EventEnvelope.decode(row.envelope) }));
  }

  beforeAll(async () => {
    db = await openDatabase({ url: 'pglite://memory' });
    await migrate(db, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
    await migrate(db, { dir: migrationsDir, table: 'consciousness_migrations' });
    repository = createPgWorkspaceRepository(db);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await db.query('TRUNCATE consciousness_events, consciousness_snapshots, workspace_state, outbox');
    memory = fakeMemory();
    trust = fakeTrust();
    wakes = 0;
  });

  it('records a perception with context and trust, and writes both public events in order', async () => {
    const service = build();
    const deadline = clock.now() + 5000;
    const result = await service.perceive({ input: ' hi ', source: 'chat', salience: 0.4, entityId: 'user:ada' }, { deadline });
    expect(result).toMatchObject({ focusChanged: true, sourceTrust: 0.8, degradedDependencies: [] });
    expect(result.focus.id).toBe(result.perception.id);
    expect(result.context).toEqual([{ memoryId: 'm1', content: 'a memory', rank: 0.9 }]);
    expect(memory.calls).toEqual([
      { query: 'hi', limit: CONTEXT_MEMORY_LIMIT, options: { deadline: enrichmentDeadline(clock.now(), deadline, BUDGET_MS), signal: undefined } },
    ]);
    expect(trust.calls.map((call) => call.entityId)).toEqual(['user:ada']);
    expect(wakes).toBe(1);

    const events = await outboxEvents();
    expect(events.map((e) => [e.topic, e.key, e.envelope.type])).toEqual([
      ['jamey.consciousness.events.v1', WORKSPACE_STREAM, 'consciousness.perceived'],
      ['jamey.consciousness.events.v1', WORKSPACE_STREAM, 'consciousness.focus_changed'],
    ]);
    const changed = consciousnessEvents.FocusChanged.decode(events[1]!.envelope.data);
    expect(changed.previous).toBeUndefined();
    expect(changed.focus?.id).toBe(result.perception.id);
    expect(await service.getState()).toMatchObject({ version: 2, perceptionCount: 1, focus: result.perception });
  });

  it('does not ask soul without an entity, and unknown entities have no trust', async () => {
    const service = build();
    const without = await service.perceive({ input: 'a', source: 's', salience: 0.5 });
    expect(trust.calls).toHaveLength(0);
    expect(without.sourceTrust).toBeUndefined();
    const unknown = await service.perceive({ input: 'b', source: 's', salience: 0.5, entityId: 'user:nobody' });
    expect(unknown.sourceTrust).toBeUndefined();
    expect(unknown.degradedDependencies).toEqual([]);
  });

  it('records the perception when memory, soul or both fail, naming them as degraded', async () => {
    const service = build();
    memory.failure = dependencyUnavailable('memory');
    const a = await service.perceive({ input: 'a', source: 's', salience: 0.5, entityId: 'user:ada' });
    expect(a.degradedDependencies).toEqual(['memory']);
    expect(a.context).toEqual([]);
    expect(a.sourceTrust).toBe(0.8);

    memory.failure = undefined;
    trust.failure = dependencyUnavailable('soul');
    const b = await service.perceive({ input: 'b', source: 's', salience: 0.5, entityId: 'user:ada' });
    expect(b.degradedDependencies).toEqual(['soul']);
    expect(b.sourceTrust).toBeUndefined();

    memory.failure = new Error('boom');
    const c = await service.perceive({ input: 'c', source: 's', salience: 0.5, entityId: 'user:ada' });
    expect(c.degradedDependencies).toEqual(['memory', 'soul']);
    expect((await service.getState()).perceptionCount).toBe(3);
  });

  it('records nothing when the caller cancelled', async () => {
    const service = build();
    const controller = new AbortController();
    memory.recall = async (_query, _limit, options) => {
      controller.abort(new Error('caller went away'));
      throw options.signal?.reason as Error;
    };
    await expect(service.perceive({ input: 'a', source: 's', salience: 0.5 }, { signal: controller.signal })).rejects.toThrow(
      'caller went away',
    );
    expect((await service.getState()).version).toBe(0);
    expect(await outboxEvents()).toEqual([]);
  });

  it('rejects bad input before calling anything', async () => {
    const service = build();
    const error = await service.perceive({ input: 'a', source: 's', salience: 2 }).catch((e: unknown) => e);
    expect(isJameyError(error) && [error.code, error.details.field]).toEqual(['INVALID_ARGUMENT', 'salience']);
    expect(memory.calls).toHaveLength(0);
  });

  it('retries a conflicting append, re-reading the stream, and writes each event once', async () => {
    let loads = 0;
    let conflicts = 2;
    const racy: WorkspaceRepository = {
      ...repository,
      load: (tx, stream, signal) => {
        loads += 1;
        return repository.load(tx, stream, signal);
      },
      append: async (tx, append, signal) => {
        await repository.append(tx, append, signal);
        if (conflicts > 0) {
          conflicts -= 1;
          throw new ConcurrencyConflictError(append.streamId, append.expectedVersion);
        }
      },
    };
    const result = await build({ repository: racy }).perceive({ input: 'a', source: 's', salience: 0.5 });
    expect(loads).toBe(3);
    expect(result.focusChanged).toBe(true);
    // The failed attempts rolled back: one perception, two events, two outbox rows.
    expect(await repository.load(db, WORKSPACE_STREAM)).toMatchObject({ version: 2, perceptionCount: 1 });
    expect(await outboxEvents()).toHaveLength(2);
  });

  it(`gives up with CONFLICT after ${MAX_APPEND_ATTEMPTS} conflicting attempts`, async () => {
    let attempts = 0;
    const alwaysBehind: WorkspaceRepository = {
      ...repository,
      append: async (_tx, append) => {
        attempts += 1;
        throw new ConcurrencyConflictError(append.streamId, append.expectedVersion);
      },
    };
    const error = await build({ repository: alwaysBehind })
      .perceive({ input: 'a', source: 's', salience: 0.5 })
      .catch((e: unknown) => e);
    expect(isJameyError(error) && error.code).toBe('CONFLICT');
    expect(attempts).toBe(MAX_APPEND_ATTEMPTS);
    expect(wakes).toBe(0);
    expect(await outboxEvents()).toEqual([]);
  });

  it('rebuilds past states through the service', async () => {
    const service = build();
    const first = await service.perceive({ input: 'a', source: 's', salience: 0.9 });
    const afterFirst = new Date(clock.now());
    clock.advance(1000);
    await service.perceive({ input: 'b', source: 's', salience: 0.1 });
    const past = await service.stateAt(afterFirst);
    expect(past).toMatchObject({ version: 2, perceptionCount: 1, focus: first.perception });
    expect((await service.stateAt(new Date(clock.now()))).perceptionCount).toBe(2);
  });
});
