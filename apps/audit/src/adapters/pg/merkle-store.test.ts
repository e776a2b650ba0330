import { generateKeyPairSync } from 'node:crypto';
import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { describeOnEachDatabase, type TestDatabase } from '@jamey/data/testing';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { VerificationError, verifyBundle } from '../../../verifier/verify-audit.mjs';
import type { AuditEntry } from '../../domain/audit-record.js';
import { signCheckpoint, verifierKey } from '../../domain/checkpoint.js';
import { leafEntry } from '../../domain/leaf-entry.js';
import { nodeHash, nodeKey } from '../../domain/merkle.js';
import { createVerifiableLog, type VerifiableLog } from '../../domain/verifiable-log.js';
import { auditMigrationsDir } from '../../migrations.js';
import { memoryTree } from '../../testing/memory-tree.js';
import { archiveRecords, backfillMerkleNodes, createPgAuditRepository, createPgMerkleStore } from './audit-repository.js';

const t0 = Date.UTC(2026, 0, 1);

describeOnEachDatabase('audit Merkle storage', 'AUDIT_DATABASE_URL', (createDatabase) => {
  let testDb: TestDatabase;
  let db: Database;
  let log: VerifiableLog;
  const repo = () => createPgAuditRepository(db);
  const clock = createManualClock(t0);
  const ids = createIdGenerator(clock, createSeededRandom(11));
  const entry = (i: number): AuditEntry => ({
    eventId: ids(),
    type: 'memory.encoded',
    source: 'memory',
    subject: `subject-${i}`,
    eventTime: new Date(t0 + i),
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    dataSchema: 'jamey.memory.v1.MemoryEncoded',
    dataJson: i % 3 === 0 ? null : `{"n":${i}}`,
    envelope: Buffer.from(`envelope-${i}`),
    topic: 'jamey.memory.events.v1',
  });
  const append = (count: number, from = 0) =>
    Promise.all(Array.from({ length: count }, (_, i) => db.transaction((tx) => repo().append(tx, entry(from + i), new Date(t0 + 7)))));

  /** The whole tree as merkle.ts builds it in memory from the stored records' leaf entries. */
  async function inMemoryTree(): Promise<Map<string, string>> {
    const store = createPgMerkleStore(db);
    const { nodes } = memoryTree((await store.leafRecords(0, 10_000)).map(leafEntry));
    return new Map([...nodes].map(([k, v]) => [k, v.toString('hex')]));
  }
  async function storedTree(): Promise<Map<string, string>> {
    const { rows } = await db.query<{ level: number; index: string; hash: Uint8Array }>('SELECT level, index, hash FROM merkle_nodes');
    return new Map(rows.map((r) => [nodeKey({ level: Number(r.level), index: Number(r.index) }), Buffer.from(r.hash).toString('hex')]));
  }

  beforeAll(async () => {
    testDb = await createDatabase();
    db = await openDatabase({ url: testDb.url, poolSize: 8 });
    await migrate(db, { dir: auditMigrationsDir, table: 'audit_migrations' });
  });
  beforeEach(async () => {
    await db.query('DELETE FROM audit_records_archive');
    await db.query('DELETE FROM audit_records');
    await db.query('DELETE FROM merkle_nodes');
    // Small pages, so verification crosses page boundaries.
    log = createVerifiableLog(createPgMerkleStore(db), 4);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.cleanup();
  });

  it('writes the leaf and completed parents of every append, equal to the in-memory tree, also under parallel appends', async () => {
    for (let i = 0; i < 5; i += 1) await append(1, i);
    await append(12, 5); // parallel transactions
    const stored = await storedTree();
    expect(stored).toEqual(await inMemoryTree());
    // 17 leaves: 17 + 8 + 4 + 2 + 1 perfect subtrees.
    expect(stored.size).toBe(32);
    expect(await log.treeSize()).toBe(17);
    expect(await log.verify()).toEqual({ ok: true, treeSize: 17 });
  });

  it('backfills the tree of records stored before it existed, then appends continue it', async () => {
    await append(9);
    const expected = await storedTree();
    await db.query('DELETE FROM merkle_nodes');
    expect(await backfillMerkleNodes(db, 4)).toBe(9);
    expect(await storedTree()).toEqual(expected);
    expect(await backfillMerkleNodes(db, 4)).toBe(0);
    await append(3, 9);
    expect(await storedTree()).toEqual(await inMemoryTree());
    expect(await log.verify()).toEqual({ ok: true, treeSize: 12 });
    await db.query('DELETE FROM merkle_nodes WHERE index >= 5 OR level > 0');
    await db.query('DELETE FROM audit_records WHERE sequence = 8');
    await expect(backfillMerkleNodes(db)).rejects.toThrow('audit record 8 is missing (found 9)');
  });

  it('serves inclusion and consistency proofs that the independent verifier accepts, and rejects a forged one', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const origin = 'jamey.io/audit-test';
    const key = verifierKey(origin, publicKey);
    await append(6);
    const old = signCheckpoint({ origin, size: 6, rootHash: await log.root(6) }, origin, privateKey);
    await append(7, 6);
    const head = signCheckpoint({ origin, size: 13, rootHash: await log.root(13) }, origin, privateKey);
    const json = (p: { entry?: Buffer; proof: readonly Buffer[] }) => ({
      ...p,
      ...(p.entry ? { entry: p.entry.toString('base64') } : {}),
      proof: p.proof.map((h) => h.toString('base64')),
    });
    const inclusions = await Promise.all([0, 5, 12].map(async (i) => json(await log.inclusionProof(i, 13))));
    const consistency = json(await log.consistencyProof(6, 13));
    expect(verifyBundle({ key, checkpoint: head.note, inclusions: inclusions as never, previous: old.note, consistency: consistency as never })).toHaveLength(5);

    const forged = { ...inclusions[1]!, entry: Buffer.from('forged').toString('base64') };
    expect(() => verifyBundle({ key, checkpoint: head.note, inclusions: [forged as never] })).toThrow(VerificationError);
    expect(await log.verify({ size: 13, rootHash: head.rootHash })).toEqual({ ok: true, treeSize: 13 });
  });

  it('rejects out-of-range proof arguments with INVALID_ARGUMENT', async () => {
    await append(3);
    await expect(log.inclusionProof(3, 3)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'leaf_index 3 is not below tree_size 3' });
    await expect(log.inclusionProof(0, 4)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'tree_size 4 is larger than the current tree size 3' });
    await expect(log.consistencyProof(3, 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'from_size 3 is larger than to_size 2' });
    await expect(log.root(4)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('names the exact index of a changed field, a deleted record and two swapped records', async () => {
    await append(11);
    expect(await log.verify()).toEqual({ ok: true, treeSize: 11 });
    for (const column of ['subject', 'type', 'topic', 'traceparent', 'data_schema']) {
      await db.query(`UPDATE audit_records SET ${column} = ${column} || 'x' WHERE sequence = 7`);
      expect(await log.verify()).toMatchObject({ ok: false, index: 6, problem: 'changed' });
      await db.query(`UPDATE audit_records SET ${column} = left(${column}, -1) WHERE sequence = 7`);
    }
    await db.query(`UPDATE audit_records SET envelope = '\\x00'::bytea WHERE sequence = 9`);
    expect(await log.verify()).toMatchObject({ ok: false, index: 8, problem: 'changed' });
    await db.query(`UPDATE audit_records SET event_time = event_time + interval '1 second' WHERE sequence = 2`);
    expect(await log.verify()).toMatchObject({ ok: false, index: 1, problem: 'changed' });
    await db.query(`UPDATE audit_records SET event_time = event_time - interval '1 second' WHERE sequence = 2`);
    // Below a millisecond too: the leaf covers the time at the database's precision.
    await db.query(`UPDATE audit_records SET record_time = record_time + interval '1 microsecond' WHERE sequence = 5`);
    expect(await log.verify()).toMatchObject({ ok: false, index: 4, problem: 'changed' });
    await db.query(`UPDATE audit_records SET record_time = record_time - interval '1 microsecond' WHERE sequence = 5`);
    await db.query(`UPDATE audit_records SET envelope = convert_to('envelope-8', 'UTF8') WHERE sequence = 9`);
    expect(await log.verify()).toEqual({ ok: true, treeSize: 11 });

    await db.query('UPDATE audit_records SET sequence = sequence + 1000 WHERE sequence IN (3, 4)');
    await db.query('UPDATE audit_records SET sequence = CASE sequence WHEN 1003 THEN 4 ELSE 3 END WHERE sequence IN (1003, 1004)');
    expect(await log.verify()).toMatchObject({ ok: false, index: 2, problem: 'reordered' });
    await db.query('UPDATE audit_records SET sequence = sequence + 1000 WHERE sequence IN (3, 4)');
    await db.query('UPDATE audit_records SET sequence = CASE sequence WHEN 1003 THEN 4 ELSE 3 END WHERE sequence IN (1003, 1004)');
    expect(await log.verify()).toEqual({ ok: true, treeSize: 11 });

    await db.query('DELETE FROM audit_records WHERE sequence = 10');
    expect(await log.verify()).toMatchObject({ ok: false, index: 9, problem: 'missing' });
    await db.query('DELETE FROM audit_records WHERE sequence = 11');
    expect(await log.verify()).toMatchObject({ ok: false, index: 9, problem: 'missing' });
  });

  it('detects a changed access column (not in the leaf, but derived from data_json, which is)', async () => {
    const accessEntry = (i: number): AuditEntry => ({
      ...entry(i),
      type: 'memory.call_denied',
      dataSchema: 'jamey.audit.v1.AccessRecord',
      dataJson: JSON.stringify({ actor: 'soul', action: '/m', resource: 'memory', outcome: 'ACCESS_OUTCOME_DENIED' }),
    });
    await Promise.all([0, 1, 2, 3, 4].map((i) => db.transaction((tx) => repo().append(tx, accessEntry(i), new Date(t0)))));
    expect(await log.verify()).toEqual({ ok: true, treeSize: 5 });
    for (const [column, value] of [['outcome', 'allowed'], ['actor', 'gateway'], ['action', '/n'], ['resource', 'soul']] as const) {
      const { rows } = await db.query<{ old: string }>(`SELECT ${column} AS old FROM audit_records WHERE sequence = 4`);
      await db.query(`UPDATE audit_records SET ${column} = $1 WHERE sequence = 4`, [value]);
      expect(await log.verify()).toMatchObject({ ok: false, index: 3, problem: 'changed' });
      await db.query(`UPDATE audit_records SET ${column} = $1 WHERE sequence = 4`, [rows[0]!.old]);
    }
    await db.query(`UPDATE audit_records SET outcome = NULL WHERE sequence = 2`);
    expect(await log.verify()).toMatchObject({ ok: false, index: 1, problem: 'changed' });
  });

  it('archives a prefix of old records without breaking proofs, verification or the sequence', async () => {
    const old = Array.from({ length: 9 }, (_, i) => entry(i));
    for (const [i, e] of old.entries()) await db.transaction((tx) => repo().append(tx, e, new Date(t0 + i * 1000)));
    const root = await log.root(9);
    const proofBefore = await log.inclusionProof(2, 9);
    // Records stored before t0 + 5 s move (sequences 1..5); one batch of 2 at a time.
    expect(await archiveRecords(db, { before: new Date(t0 + 5000), batchSize: 2 })).toBe(5);
    expect(await archiveRecords(db, { before: new Date(t0 + 5000) })).toBe(0);
    const live = await repo().query({}, 0, 100);
    expect(live.map((r) => r.sequence)).toEqual([6, 7, 8, 9]);
    const { rows } = await db.query<{ sequence: string }>('SELECT sequence FROM audit_records_archive ORDER BY sequence');
    expect(rows.map((r) => Number(r.sequence))).toEqual([1, 2, 3, 4, 5]);
    // Proofs and verification see archived records as before.
    expect(await log.inclusionProof(2, 9)).toEqual(proofBefore);
    expect(await log.verify({ size: 9, rootHash: root })).toEqual({ ok: true, treeSize: 9 });
    // A redelivered archived event is not stored again; the next record continues the sequence.
    expect(await db.transaction((tx) => repo().append(tx, old[1]!, new Date(t0 + 99_000)))).toBeUndefined();
    expect(await db.transaction((tx) => repo().append(tx, entry(100), new Date(t0 + 99_000)))).toMatchObject({ sequence: 10 });
    // Everything archived, even the whole live table: the sequence still continues.
    expect(await archiveRecords(db, { before: new Date(t0 + 100_000) })).toBe(5);
    expect(await repo().query({}, 0, 100)).toEqual([]);
    expect(await db.transaction((tx) => repo().append(tx, entry(101), new Date(t0 + 101_000)))).toMatchObject({ sequence: 11 });
    expect(await log.verify()).toEqual({ ok: true, treeSize: 11 });
    // An archived record is still tamper-evident, at its exact index.
    await db.query(`UPDATE audit_records_archive SET subject = 'forged' WHERE sequence = 4`);
    expect(await log.verify()).toMatchObject({ ok: false, index: 3, problem: 'changed' });
  });

  it('detects a rewritten node, a deleted last record and a signed head the storage no longer matches', async () => {
    await append(8);
    const root = await log.root(8);
    await db.query(`UPDATE merkle_nodes SET hash = sha256(hash) WHERE level = 1 AND index = 2`);
    expect(await log.verify()).toMatchObject({ ok: false, index: 5, problem: 'node' });
    await db.query('DELETE FROM merkle_nodes WHERE level = 1 AND index = 2');
    await db.transaction(async (tx) => {
      const hashes = await createPgMerkleStore(tx).nodes([{ level: 0, index: 4 }, { level: 0, index: 5 }]);
      await tx.query('INSERT INTO merkle_nodes (level, index, hash) VALUES (1, 2, $1)', [nodeHash(hashes.get('0:4')!, hashes.get('0:5')!)]);
    });
    expect(await log.verify({ size: 8, rootHash: root })).toEqual({ ok: true, treeSize: 8 });
    expect(await log.verify({ size: 8, rootHash: Buffer.alloc(32) })).toMatchObject({ ok: false, index: 7, problem: 'root' });
    await db.query('DELETE FROM audit_records WHERE sequence = 8');
    expect(await log.verify()).toMatchObject({ ok: false, index: 7, problem: 'missing' });
  });
});
