import { describe, expect, it } from 'vitest';
import { createManualClock, createSeededRandom, dependencyUnavailable, type JameyError } from '@jamey/core';
import type { Database, QueryResult } from '@jamey/data';
import { createCircuitBreaker } from '@jamey/resilience';
import { guardDatabase } from './guarded-database.js';

/** A database whose answers the test decides; it stands in for Postgres, not for the guard. */
function scriptedDatabase() {
  const state = { up: true, queries: 0 };
  const answer = async (): Promise<QueryResult<never>> => {
    state.queries += 1;
    if (!state.up) throw dependencyUnavailable('postgres', new Error('ECONNREFUSED'));
    return { rows: [], rowCount: 0 };
  };
  const db: Database = {
    kind: 'postgres',
    query: answer as Database['query'],
    transaction: async (fn) => {
      await answer();
      return fn({ query: answer as Database['query'] });
    },
    ping: async () => {
      if (!state.up) throw dependencyUnavailable('postgres');
    },
    close: async () => undefined,
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
  };
  return { db, state };
}

describe('guardDatabase', () => {
  it('fails fast once Postgres is down, and recovers through a trial call', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ name: 'postgres', clock, random: createSeededRandom(1), strategy: { kind: 'consecutive', threshold: 3 }, breakDuration: 1000 });
    const { db, state } = scriptedDatabase();
    const guarded = guardDatabase(db, breaker);
    await guarded.query('SELECT 1');

    state.up = false;
    for (let i = 0; i < 3; i += 1) await expect(guarded.transaction(async () => 'x')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    const before = state.queries;
    const error = (await guarded.query('SELECT 1').catch((e: unknown) => e)) as JameyError;
    expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(error.details).toMatchObject({ dependency: 'postgres', retryAfterMs: 1000 });
    expect(state.queries).toBe(before); // failed fast: Postgres was not asked

    // Readiness is not guarded: it sees the real state.
    await expect(guarded.ping()).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    state.up = true;
    await guarded.ping();

    clock.advance(1000);
    await guarded.query('SELECT 1');
    expect(breaker.state).toBe('closed');
  });

  it('does not count SQL errors such as a unique violation as an outage', async () => {
    const breaker = createCircuitBreaker({ name: 'postgres', clock: createManualClock(), random: createSeededRandom(1), strategy: { kind: 'consecutive', threshold: 2 } });
    const { db } = scriptedDatabase();
    const unique = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
    const failing: Database = { ...db, query: () => Promise.reject(unique) };
    const guarded = guardDatabase(failing, breaker);
    for (let i = 0; i < 5; i += 1) await expect(guarded.query('INSERT …')).rejects.toBe(unique);
    expect(breaker.state).toBe('closed');
  });
});
