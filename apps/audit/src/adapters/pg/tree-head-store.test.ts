import { generateKeyPairSync } from 'node:crypto';
import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { migrate, openDatabase, type Database } from '@jamey/data';
import { describeOnEachDatabase, waitFor, type TestDatabase } from '@jamey/data/testing';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { verifyBundle, verifyCheckpointNote } from '../../../verifier/verify-audit.mjs';
import { verifierKey } from '../../domain/checkpoint.js';
import { createTreeHeadSigner, createTreeHeadWorker, type StoredTreeHead } from '../../domain/tree-heads.js';
import { createVerifiableLog } from '../../domain/verifiable-log.js';
import { auditMigrationsDir } from '../../migrations.js';
import { createPgAuditRepository, createPgMerkleStore } from './audit-repository.js';
import { createPgTreeHeadStore } from './tree-head-store.js';

const t0 = Date.UTC(2026, 0, 1);
const origin = 'jamey.io/audit-test';

describeOnEachDatabase('audit signed tree heads', 'AUDIT_DATABASE_URL', (createDatabase) => {
  let testDb: TestDatabase;
  let db: Database;
  const clock = createManualClock(t0);
  const ids = createIdGenerator(clock, createSeededRandom(5));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = verifierKey(origin, publicKey);
  const append = (count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        db.transaction((tx) =>
          createPgAuditRepository(db).append(
            tx,
            {
              eventId: ids(),
              type: 'soul.emotion_changed',
              source: 'soul',
              subject: `s${i}`,
              eventTime: new Date(t0),
              traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
              dataSchema: 'jamey.soul.v1.EmotionChanged',
              dataJson: '{}',
              envelope: Buffer.from([i]),
              topic: 'jamey.soul.events.v1',
            },
            new Date(t0),
          ),
        ),
      ),
    );
  const parts = () => {
    const log = createVerifiableLog(createPgMerkleStore(db));
    const store = createPgTreeHeadStore(db);
    return { log, store, signer: createTreeHeadSigner({ log, store, origin, privateKey, clock }) };
  };

  beforeAll(async () => {
    testDb = await createDatabase();
    db = await openDatabase({ url: testDb.url });
    await migrate(db, { dir: auditMigrationsDir, table: 'audit_migrations' });
  });
  beforeEach(async () => {
    for (const table of ['audit_records', 'merkle_nodes', 'tree_heads']) await db.query(`DELETE FROM ${table}`);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.cleanup();
  });

  it('signs a head only when the size changed; an earlier head is consistent with a later one', async () => {
    const { log, store, signer } = parts();
    const empty = await signer.signIfChanged();
    expect(empty?.size).toBe(0);
    expect(await signer.signIfChanged()).toBeUndefined();
    await append(5);
    const first = (await signer.signIfChanged())!;
    expect(verifyCheckpointNote(first.note, key)).toMatchObject({ origin, size: 5n });
    expect(await signer.signIfChanged()).toBeUndefined();
    await append(6);
    const second = (await signer.signIfChanged())!;
    expect(second.size).toBe(11);
    expect(await store.latest()).toEqual(second);
    expect(await store.atSize(5)).toEqual(first);
    expect(await store.atSize(7)).toBeUndefined();

    const proof = await log.consistencyProof(5, 11);
    const consistency = { ...proof, proof: proof.proof.map((h) => h.toString('base64')) };
    expect(verifyBundle({ key, checkpoint: second.note, previous: first.note, consistency })).toHaveLength(2);
    expect(await log.verify(second)).toEqual({ ok: true, treeSize: 11 });
    // A second replica signing the same size concurrently stores one head.
    await store.insert({ ...second, note: 'other', signedAt: new Date(t0 + 1) });
    expect((await store.latest())?.note).toBe(second.note);
  });

  it('the worker signs at its interval as the log grows, and reports failures without stopping', async () => {
    const { signer } = parts();
    const signed: StoredTreeHead[] = [];
    const errors: unknown[] = [];
    let fail = false;
    const worker = createTreeHeadWorker({
      signer: { signIfChanged: (signal) => (fail ? Promise.reject(new Error('database down')) : signer.signIfChanged(signal)) },
      intervalMs: 20,
      onError: (error) => errors.push(error),
      onSigned: (head) => signed.push(head),
    });
    worker.start();
    try {
      await waitFor(() => signed.length === 1, { message: 'the first head' });
      await append(3);
      await waitFor(() => signed.at(-1)?.size === 3, { message: 'a head of size 3' });
      fail = true;
      await waitFor(() => errors.length > 0, { message: 'a failed round' });
      fail = false;
      await append(2);
      await waitFor(() => signed.at(-1)?.size === 5, { message: 'a head of size 5 after the failure' });
      // Parallel appends may commit between rounds, so sizes in between may appear too.
      const sizes = signed.map((h) => h.size);
      expect(sizes[0]).toBe(0);
      expect(sizes).toContain(3);
      expect(sizes).toEqual([...new Set(sizes)].sort((a, b) => a - b));
    } finally {
      await worker.stop();
    }
  });
});
