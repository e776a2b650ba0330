import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { createTestSchema, describeWithInfra, type TestSchema } from '@jamey/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_RECORD_SCHEMA } from '../../domain/access-fields.js';
import { createAuditLog } from '../../domain/audit-log.js';
import type { AuditEntry } from '../../domain/audit-record.js';
import { auditMigrationsDir } from '../../migrations.js';
import { createPgAuditRepository } from './audit-repository.js';

const t0 = Date.UTC(2026, 0, 1);

function repositoryTests(open: () => Promise<Database>): void {
  let db: Database;
  const clock = createManualClock(t0);
  const ids = createIdGenerator(clock, createSeededRandom(7));
  const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
    eventId: ids(),
    type: 'memory.encoded',
    source: 'memory',
    subject: 'subject-1',
    eventTime: new Date(t0),
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    dataSchema: 'jamey.memory.v1.MemoryEncoded',
    dataJson: '{"memory":{"id":"x"}}',
    envelope: new Uint8Array([1, 2, 3]),
    topic: 'jamey.memory.events.v1',
    ...overrides,
  });

  beforeAll(async () => {
    db = await open();
    await migrate(db, { dir: auditMigrationsDir, table: 'audit_migrations' });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('appends with dense sequences from 1, ignores a duplicate event id without using a number', async () => {
    const repo = createPgAuditRepository(db);
    const first = entry();
    const recordTime = new Date(t0 + 5);
    const stored = await db.transaction((tx) => repo.append(tx, first, recordTime));
    expect(stored).toEqual({
      sequence: 1,
      eventId: first.eventId,
      type: first.type,
      source: first.source,
      subject: first.subject,
      eventTime: first.eventTime,
      recordTime,
      traceparent: first.traceparent,
      dataSchema: first.dataSchema,
      dataJson: first.dataJson,
      topic: first.topic,
      actor: null,
      action: null,
      resource: null,
      outcome: null,
    });
    expect(await db.transaction((tx) => repo.append(tx, { ...first, type: 'changed' }, recordTime))).toBeUndefined();
    // A rolled-back append leaves no gap either.
    await expect(
      db.transaction(async (tx) => {
        await repo.append(tx, entry(), recordTime);
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    const second = await db.transaction((tx) => repo.append(tx, entry({ dataJson: null }), recordTime));
    expect(second).toMatchObject({ sequence: 2, dataJson: null });
    const { rows } = await db.query<{ envelope: Buffer }>('SELECT envelope FROM audit_records WHERE sequence = 1');
    expect([...rows[0]!.envelope]).toEqual([1, 2, 3]);
  });

  it('keeps sequences dense under concurrent appends', async () => {
    const repo = createPgAuditRepository(db);
    const before = (await repo.query({}, 0, 1000)).length;
    await Promise.all(Array.from({ length: 8 }, () => db.transaction((tx) => repo.append(tx, entry(), new Date(t0)))));
    const all = await repo.query({}, 0, 1000);
    expect(all.map((r) => r.sequence)).toEqual(Array.from({ length: before + 8 }, (_, i) => i + 1));
  });

  it('filters by type, source, subject and a half-open time range, oldest first after a sequence', async () => {
    const repo = createPgAuditRepository(db);
    await db.query('DELETE FROM audit_records');
    await db.query('DELETE FROM merkle_nodes');
    const put = (o: Partial<AuditEntry>) => db.transaction((tx) => repo.append(tx, entry(o), new Date(t0)));
    const a = await put({ type: 'soul.emotion_changed', source: 'soul', subject: 's1', eventTime: new Date(t0 + 1000) });
    const b = await put({ type: 'soul.emotion_changed', source: 'soul', subject: 's2', eventTime: new Date(t0 + 2000) });
    const c = await put({ type: 'memory.encoded', source: 'memory', subject: 's1', eventTime: new Date(t0 + 3000) });
    const seqs = async (filter: Parameters<typeof repo.query>[0], after = 0) => (await repo.query(filter, after, 10)).map((r) => r.sequence);
    expect(await seqs({})).toEqual([a!.sequence, b!.sequence, c!.sequence]);
    expect(await seqs({ type: 'soul.emotion_changed' })).toEqual([a!.sequence, b!.sequence]);
    expect(await seqs({ source: 'memory' })).toEqual([c!.sequence]);
    expect(await seqs({ subject: 's1' })).toEqual([a!.sequence, c!.sequence]);
    expect(await seqs({ startTime: new Date(t0 + 2000) })).toEqual([b!.sequence, c!.sequence]);
    expect(await seqs({ endTime: new Date(t0 + 3000) })).toEqual([a!.sequence, b!.sequence]);
    expect(await seqs({ startTime: new Date(t0 + 1000), endTime: new Date(t0 + 2000) })).toEqual([a!.sequence]);
    expect(await seqs({}, a!.sequence)).toEqual([b!.sequence, c!.sequence]);
  });

  const access = (o: { actor?: string; action?: string; resource?: string; outcome?: string }, type = 'memory.call_denied'): Partial<AuditEntry> => ({
    type,
    dataSchema: ACCESS_RECORD_SCHEMA,
    dataJson: JSON.stringify({ ...o, outcome: o.outcome ? `ACCESS_OUTCOME_${o.outcome.toUpperCase()}` : undefined, status: 16 }),
  });

  it('stores the access columns of access records (null for others) and filters on them', async () => {
    const repo = createPgAuditRepository(db);
    await db.query('DELETE FROM audit_records');
    await db.query('DELETE FROM merkle_nodes');
    const put = (o: Partial<AuditEntry>) => db.transaction((tx) => repo.append(tx, entry(o), new Date(t0)));
    const grpcPath = '/jamey.memory.v1.MemoryService/GetMemory';
    const a = await put(access({ action: grpcPath, resource: 'memory', outcome: 'unauthenticated' }));
    const b = await put(access({ actor: 'soul', action: grpcPath, resource: 'memory', outcome: 'denied' }));
    const c = await put(access({ actor: 'alice', action: 'GET /v1/memories', resource: '/v1/memories', outcome: 'allowed' }, 'gateway.request_completed'));
    const d = await put({});
    expect(a).toMatchObject({ actor: null, action: grpcPath, resource: 'memory', outcome: 'unauthenticated' });
    expect(b).toMatchObject({ actor: 'soul', outcome: 'denied' });
    expect(d).toMatchObject({ actor: null, action: null, resource: null, outcome: null });
    const seqs = async (filter: Parameters<typeof repo.query>[0]) => (await repo.query(filter, 0, 10)).map((r) => r.sequence);
    expect(await seqs({ actor: 'soul' })).toEqual([b!.sequence]);
    expect(await seqs({ action: grpcPath })).toEqual([a!.sequence, b!.sequence]);
    expect(await seqs({ resource: 'memory', outcome: 'denied' })).toEqual([b!.sequence]);
    expect(await seqs({ outcome: 'allowed', type: 'gateway.request_completed' })).toEqual([c!.sequence]);
    expect(await seqs({ outcome: 'error' })).toEqual([]);
    expect((await repo.query({ actor: 'alice' }, 0, 10))[0]).toMatchObject({ actor: 'alice', action: 'GET /v1/memories', outcome: 'allowed' });
    // The column only admits outcomes, whatever writes to it.
    await expect(db.query(`UPDATE audit_records SET outcome = 'ok' WHERE sequence = $1`, [a!.sequence])).rejects.toThrow();
  });

  it('pages through a filter while matching records keep arriving: each record exactly once, in order', async () => {
    const repo = createPgAuditRepository(db);
    const log = createAuditLog({ repository: repo, clock });
    await db.query('DELETE FROM audit_records');
    await db.query('DELETE FROM merkle_nodes');
    const put = (o: Partial<AuditEntry>) => db.transaction((tx) => log.record(tx, entry(o)));
    const denied = () => access({ actor: 'mallory', action: '/x', resource: 'memory', outcome: 'denied' });
    for (let i = 0; i < 7; i += 1) {
      await put(denied());
      await put(access({ actor: 'alice', outcome: 'allowed' }));
    }
    const filter = { actor: 'mallory', outcome: 'denied' };
    const seen: number[] = [];
    let token = '';
    let arriving = 0;
    for (let pages = 0; pages < 50; pages += 1) {
      const page = await log.query({ ...filter, pageSize: 2, pageToken: token });
      seen.push(...page.records.map((r) => r.sequence));
      expect(page.records.every((r) => r.actor === 'mallory' && r.outcome === 'denied')).toBe(true);
      if (page.nextPageToken === '') break;
      token = page.nextPageToken;
      // A token of this query is not good for another.
      await expect(log.query({ actor: 'alice', pageSize: 3, pageToken: token })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { field: 'page_token' },
      });
      // New matching and non-matching records commit, concurrently, between pages.
      if (arriving < 5) {
        arriving += 1;
        await Promise.all([put(denied()), put(access({ actor: 'alice', outcome: 'allowed' })), put(denied())]);
      }
    }
    expect(arriving).toBe(5);
    const all = (await repo.query({ actor: 'mallory', outcome: 'denied' }, 0, 1000)).map((r) => r.sequence);
    expect(all).toHaveLength(7 + 2 * 5);
    expect(seen).toEqual(all);
  });
}

describe('audit repository on PGlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-repo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  repositoryTests(() => openDatabase({ url: `pglite://${dir}` }));
});

describeWithInfra(['AUDIT_DATABASE_URL'], 'audit repository on Postgres', (env) => {
  let schema: TestSchema;
  afterAll(async () => {
    await schema?.drop();
  });
  repositoryTests(async () => {
    schema = await createTestSchema(env.AUDIT_DATABASE_URL!, 'audit_repo');
    return openDatabase({ url: schema.url, poolSize: 8 });
  });
});
