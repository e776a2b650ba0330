import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isJameyError } from '@jamey/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, migrate, openDatabase } from './index.js';
import { createTestSchema, describeWithInfra, TEST_DATABASE_URL, type TestSchema, waitFor } from './testing.js';

const migrations = fileURLToPath(new URL('./__fixtures__/migrations', import.meta.url));
const table = 'data_test_migrations';

/** The behaviour both drivers must share. `open` gives a fresh, empty database each call. */
function databaseContract(open: () => Promise<Database>): void {
  let db: Database;
  beforeAll(async () => {
    db = await open();
    await migrate(db, { dir: migrations, table });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('applies the migrations once and records them in the given table', async () => {
    await migrate(db, { dir: migrations, table });
    const { rows } = await db.query<{ name: string }>(`SELECT name FROM ${table} ORDER BY id`);
    expect(rows.map((row) => row.name)).toEqual(['0001_widgets', '0002_embeddings']);
  });

  it('has pgvector', async () => {
    await db.query('INSERT INTO widgets (id) VALUES ($1)', ['v1']);
    await db.query(`INSERT INTO embeddings (id, embedding) VALUES ($1, $2)`, ['v1', '[1,2,3]']);
    const { rows } = await db.query<{ distance: number }>(
      `SELECT embedding <-> '[1,2,4]' AS distance FROM embeddings WHERE id = $1`,
      ['v1'],
    );
    expect(rows[0]?.distance).toBe(1);
  });

  it('returns node-postgres value shapes and row counts', async () => {
    const inserted = await db.query('INSERT INTO widgets (id, size, blob) VALUES ($1, $2, $3), ($4, $2, $3)', [
      'shape1',
      '9007199254740993',
      Buffer.from([1, 2, 255]),
      'shape2',
    ]);
    expect(inserted.rowCount).toBe(2);
    const { rows, rowCount } = await db.query<{ size: string; blob: Buffer; created_at: Date }>(
      'SELECT size, blob, created_at FROM widgets WHERE id LIKE $1 ORDER BY id',
      ['shape%'],
    );
    expect(rowCount).toBe(2);
    expect(rows[0]?.size).toBe('9007199254740993');
    expect(Buffer.isBuffer(rows[0]?.blob)).toBe(true);
    expect([...(rows[0]?.blob ?? [])]).toEqual([1, 2, 255]);
    expect(rows[0]?.created_at).toBeInstanceOf(Date);
  });

  it('commits a transaction and rolls it back when the callback throws', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO widgets (id) VALUES ($1)', ['tx-commit']);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO widgets (id) VALUES ($1)', ['tx-rollback']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM widgets WHERE id LIKE 'tx-%' ORDER BY id`);
    expect(rows.map((row) => row.id)).toEqual(['tx-commit']);
  });

  it('keeps the SQLSTATE on constraint violations', async () => {
    await db.query('INSERT INTO widgets (id) VALUES ($1)', ['dup']);
    const error = await db.query('INSERT INTO widgets (id) VALUES ($1)', ['dup']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '23505' });
    expect(isJameyError(error)).toBe(false);
    const inTx = await db
      .transaction((tx) => tx.query('INSERT INTO widgets (id) VALUES ($1)', ['dup']))
      .catch((e: unknown) => e);
    expect(inTx).toMatchObject({ code: '23505' });
  });

  it('does not let concurrent transactions and queries see each other’s uncommitted work', async () => {
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (firstInserted = resolve));
    const first = db.transaction(async (tx) => {
      await tx.query('INSERT INTO widgets (id) VALUES ($1)', ['iso-1']);
      firstInserted();
      await firstMayCommit;
      throw new Error('roll back iso-1');
    });
    await inserted;
    const second = db.transaction(async (tx) => {
      const { rows } = await tx.query(`SELECT id FROM widgets WHERE id = 'iso-1'`);
      await tx.query('INSERT INTO widgets (id) VALUES ($1)', ['iso-2']);
      return rows.length;
    });
    const plain = db.query(`SELECT count(*) AS n FROM widgets WHERE id = 'iso-1'`);
    releaseFirst();
    await expect(first).rejects.toThrow('roll back iso-1');
    expect(await second).toBe(0);
    expect((await plain).rows[0]).toEqual({ n: '0' });
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM widgets WHERE id LIKE 'iso-%'`);
    expect(rows.map((row) => row.id)).toEqual(['iso-2']);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const signal = AbortSignal.abort(new Error('caller gave up'));
    await expect(db.query('SELECT 1', [], signal)).rejects.toThrow('caller gave up');
    await expect(db.transaction(async () => 1, signal)).rejects.toThrow('caller gave up');
    await db.ping();
  });

  it('reports pool stats', () => {
    const stats = db.poolStats();
    expect(stats.total).toBeGreaterThanOrEqual(stats.idle);
    expect(stats.waiting).toBe(0);
  });
}

describe('PGlite database', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jamey-data-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('contract', () => {
    databaseContract(() => openDatabase({ url: `pglite://${join(dir, 'contract')}` }));
  });

  it('persists data in its directory across reopen, and does not re-run migrations', async () => {
    const url = `pglite://${join(dir, 'persist')}`;
    const first = await openDatabase({ url });
    expect(first.kind).toBe('pglite');
    await migrate(first, { dir: migrations, table });
    await first.query('INSERT INTO widgets (id, size) VALUES ($1, $2)', ['kept', 42]);
    await first.close();

    const second = await openDatabase({ url });
    try {
      await migrate(second, { dir: migrations, table });
      const { rows } = await second.query<{ size: string }>('SELECT size FROM widgets WHERE id = $1', ['kept']);
      expect(rows).toEqual([{ size: '42' }]);
      const runs = await second.query(`SELECT name FROM ${table}`);
      expect(runs.rowCount).toBe(2);
    } finally {
      await second.close();
    }
  });

  it('opens pglite://memory, serializes callers behind a transaction, and reports closed as unavailable', async () => {
    const db = await openDatabase({ url: 'pglite://memory' });
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    // PGlite runs a statement synchronously, so an abort can only take effect while waiting
    // for the single connection, which this test holds with an open transaction.
    let releaseTx!: () => void;
    const txHeld = new Promise<void>((resolve) => (releaseTx = resolve));
    let txStarted!: () => void;
    const started = new Promise<void>((resolve) => (txStarted = resolve));
    const tx = db.transaction(async () => {
      txStarted();
      await txHeld;
    });
    await started;
    const controller = new AbortController();
    const queued = db.query('SELECT 1', [], controller.signal);
    expect(db.poolStats()).toEqual({ total: 1, idle: 0, waiting: 1 });
    controller.abort(new Error('deadline'));
    await expect(queued).rejects.toThrow('deadline');
    expect(db.poolStats().waiting).toBe(0);
    releaseTx();
    await tx;
    await db.ping();

    await db.close();
    const error = await db.ping().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'postgres' } });
  });
});

describe('Postgres connection failures', () => {
  it('translates an unreachable server into DEPENDENCY_UNAVAILABLE', async () => {
    // Port 1 on loopback refuses connections.
    const error = await openDatabase({ url: 'postgres://jamey:jamey@127.0.0.1:1/none', connectTimeoutMs: 2_000 }).catch(
      (e: unknown) => e,
    );
    expect(isJameyError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', details: { dependency: 'postgres' } });
  });

  it('rejects unknown URL schemes', async () => {
    await expect(openDatabase({ url: 'mysql://x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describeWithInfra([TEST_DATABASE_URL], 'Postgres database', (env) => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema(env.JAMEY_TEST_DATABASE_URL!, 'data');
  });
  afterAll(async () => {
    await schema?.drop();
  });

  describe('contract', () => {
    databaseContract(() => openDatabase({ url: schema.url, poolSize: 4 }));
  });

  it('cancels a slow statement when aborted, and stays usable', async () => {
    const db = await openDatabase({ url: schema.url, poolSize: 2 });
    try {
      const controller = new AbortController();
      const started = Date.now();
      const slow = db.query('SELECT pg_sleep(5)', [], controller.signal);
      setTimeout(() => controller.abort(new Error('deadline')), 50);
      await expect(slow).rejects.toThrow('deadline');
      await db.ping();
      // The server-side cancel frees the connection well before the 5 s sleep would end.
      await waitFor(() => db.poolStats().idle === db.poolStats().total, { message: 'connection released' });
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      await db.close();
    }
  });

  it('lets concurrent migrate() calls wait for each other instead of failing', async () => {
    const fresh = await createTestSchema(env.JAMEY_TEST_DATABASE_URL!, 'data_concurrent');
    const [a, b] = await Promise.all([openDatabase({ url: fresh.url }), openDatabase({ url: fresh.url })]);
    try {
      await Promise.all([migrate(a, { dir: migrations, table }), migrate(b, { dir: migrations, table })]);
      expect((await a.query(`SELECT name FROM ${table}`)).rowCount).toBe(2);
      // Recorded in the connection's schema, not in public.
      const where = await a.query<{ schema: string }>(
        `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = $1`,
        [table],
      );
      expect(where.rows.map((row) => row.schema)).toContain(fresh.schema);
      expect(where.rows.map((row) => row.schema)).not.toContain('public');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await fresh.drop();
    }
  });
});
