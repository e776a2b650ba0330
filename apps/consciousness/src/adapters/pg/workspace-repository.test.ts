import { fileURLToPath } from 'node:url';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { createTestSchema, describeWithInfra, uniqueName, type TestSchema } from '@jamey/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyConflictError, SNAPSHOT_INTERVAL, shouldSnapshot, type WorkspaceRepository } from '../../domain/ports.js';
import { EMPTY_WORKSPACE, perceive, type Perception, type WorkspaceState } from '../../domain/workspace.js';
import { createPgWorkspaceRepository } from './workspace-repository.js';

const migrationsDir = fileURLToPath(new URL('../../../migrations', import.meta.url));
const T0 = Date.UTC(2026, 0, 1);

function perception(n: number, salience: number): Perception {
  return { id: `p${n}`, input: `input ${n}`, source: 'test', salience, perceivedAt: new Date(T0 + n * 1000) };
}

/** A deterministic salience sequence with ties and evictions. */
const salienceOf = (n: number): number => ((n * 37) % 11) / 10;

/** Runs one perceive command the way the service does: load, decide, append, in one transaction. */
async function command(db: Database, repository: WorkspaceRepository, stream: string, p: Perception, at: Date) {
  return db.transaction(async (tx) => {
    const state = await repository.load(tx, stream);
    const decision = perceive(state, p, at);
    await repository.append(tx, {
      streamId: stream,
      expectedVersion: state.version,
      events: decision.events.map((event) => ({ event, occurredAt: at })),
      state: decision.state,
    });
    return decision.state;
  });
}

/** Perceives `count` times, one second apart; returns the state after each command. */
async function perceiveMany(db: Database, repository: WorkspaceRepository, stream: string, count: number) {
  const states: WorkspaceState[] = [];
  for (let n = 1; n <= count; n += 1) {
    states.push(await command(db, repository, stream, perception(n, salienceOf(n)), new Date(T0 + n * 1000)));
  }
  return states;
}

function defineRepositoryTests(open: () => Promise<Database>): void {
  let db: Database;
  let repository: WorkspaceRepository;

  beforeAll(async () => {
    db = await open();
    await migrate(db, { dir: migrationsDir, table: 'consciousness_migrations' });
    repository = createPgWorkspaceRepository(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('loads the empty workspace for a new stream', async () => {
    const stream = uniqueName('empty');
    expect(await repository.load(db, stream)).toEqual(EMPTY_WORKSPACE);
    expect(await repository.readProjection(stream)).toEqual(EMPTY_WORKSPACE);
  });

  it('appends events and keeps the projection equal to the folded state', async () => {
    const stream = uniqueName('append');
    const states = await perceiveMany(db, repository, stream, 10);
    const last = states.at(-1)!;
    expect(await repository.load(db, stream)).toEqual(last);
    expect(await repository.readProjection(stream)).toEqual(last);
    expect(last.perceptionCount).toBe(10);
    expect(last.recent).toHaveLength(7);
  });

  it('rejects an append at a stale version and writes nothing', async () => {
    const stream = uniqueName('stale');
    await perceiveMany(db, repository, stream, 2);
    const before = await repository.load(db, stream);
    const stale = { ...EMPTY_WORKSPACE, version: 1 };
    const decision = perceive(stale, perception(99, 1), new Date(T0 + 99_000));
    const append = db.transaction((tx) =>
      repository.append(tx, {
        streamId: stream,
        expectedVersion: stale.version,
        events: decision.events.map((event) => ({ event, occurredAt: new Date(T0 + 99_000) })),
        state: decision.state,
      }),
    );
    await expect(append).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(await repository.load(db, stream)).toEqual(before);
    expect(await repository.readProjection(stream)).toEqual(before);
  });

  it('lets exactly one of two concurrent writers at the same version win', async () => {
    const stream = uniqueName('race');
    await perceiveMany(db, repository, stream, 1);
    const base = await repository.load(db, stream);
    const write = (n: number) =>
      db.transaction(async (tx) => {
        const decision = perceive(base, perception(n, 0.1), new Date(T0 + n * 1000));
        await repository.append(tx, {
          streamId: stream,
          expectedVersion: base.version,
          events: decision.events.map((event) => ({ event, occurredAt: new Date(T0 + n * 1000) })),
          state: decision.state,
        });
      });
    const results = await Promise.allSettled([write(2), write(3)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(ConcurrencyConflictError);
    expect((await repository.load(db, stream)).perceptionCount).toBe(2);
  });

  describe('snapshots and rebuildAt', () => {
    // Enough commands (one or two events each) to pass two snapshot boundaries.
    const COMMANDS = 170;
    const stream = uniqueName('snap');
    let states: WorkspaceState[];

    beforeAll(async () => {
      states = await perceiveMany(db, repository, stream, COMMANDS);
    });

    it(`takes a snapshot each time the stream passes a multiple of ${SNAPSHOT_INTERVAL} events`, async () => {
      const { rows } = await db.query<{ version: string }>(
        'SELECT version FROM consciousness_snapshots WHERE stream_id = $1 ORDER BY version',
        [stream],
      );
      const versions = rows.map((row) => Number(row.version));
      const expected = states
        .map((state, i) => ({ from: i === 0 ? 0 : states[i - 1]!.version, to: state.version }))
        .filter(({ from, to }) => shouldSnapshot(from, to))
        .map(({ to }) => to);
      expect(states.at(-1)!.version).toBeGreaterThan(2 * SNAPSHOT_INTERVAL);
      expect(versions).toEqual(expected);
      expect(versions).toHaveLength(2);
      for (const version of versions) {
        expect(version % SNAPSHOT_INTERVAL).toBeLessThan(2);
      }
    });

    it('rebuilds the state from the latest snapshot plus the later events', async () => {
      expect(await repository.load(db, stream)).toEqual(states.at(-1));
      // Prove the snapshot is read: tamper with it and watch the loaded state follow.
      const { rows } = await db.query<{ version: string }>(
        'SELECT max(version) AS version FROM consciousness_snapshots WHERE stream_id = $1',
        [stream],
      );
      const latest = Number(rows[0]!.version);
      await db.query(
        `UPDATE consciousness_snapshots SET state = jsonb_set(state, '{perceptionCount}', to_jsonb((state->>'perceptionCount')::int + 1000))
         WHERE stream_id = $1 AND version = $2`,
        [stream, latest],
      );
      try {
        expect((await repository.load(db, stream)).perceptionCount).toBe(states.at(-1)!.perceptionCount + 1000);
      } finally {
        await db.query(
          `UPDATE consciousness_snapshots SET state = jsonb_set(state, '{perceptionCount}', to_jsonb((state->>'perceptionCount')::int - 1000))
           WHERE stream_id = $1 AND version = $2`,
          [stream, latest],
        );
      }
      expect(await repository.load(db, stream)).toEqual(states.at(-1));
    });

    it('rebuilds the state as of past times, before and after snapshots', async () => {
      expect(await repository.rebuildAt(stream, new Date(T0))).toEqual(EMPTY_WORKSPACE);
      // Command n occurred at T0 + n s; half a second later and exactly at it see the same state.
      // The commands whose append took a snapshot, and their neighbours on either side.
      const snapshotting = states.flatMap((state, i) => (shouldSnapshot(i === 0 ? 0 : states[i - 1]!.version, state.version) ? [i + 1] : []));
      expect(snapshotting).toHaveLength(2);
      const probes = [1, 7, 8, ...snapshotting.flatMap((n) => [n - 1, n, n + 1]), COMMANDS - 1, COMMANDS];
      for (const n of probes) {
        const expected = states[n - 1];
        expect(await repository.rebuildAt(stream, new Date(T0 + n * 1000))).toEqual(expected);
        expect(await repository.rebuildAt(stream, new Date(T0 + n * 1000 + 500))).toEqual(expected);
      }
      expect(await repository.rebuildAt(stream, new Date(T0 + 10_000_000))).toEqual(states.at(-1));
    });
  });
}

describe('workspace repository on PGlite', () => {
  defineRepositoryTests(() => openDatabase({ url: 'pglite://memory' }));
});

describeWithInfra(['CONSCIOUSNESS_DATABASE_URL'], 'workspace repository on PostgreSQL', (env) => {
  let schema: TestSchema;
  afterAll(async () => {
    await schema?.drop();
  });
  defineRepositoryTests(async () => {
    schema = await createTestSchema(env['CONSCIOUSNESS_DATABASE_URL']!, 'consciousness');
    return openDatabase({ url: schema.url, poolSize: 4 });
  });
});
