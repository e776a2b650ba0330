import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdGenerator, createManualClock, cryptoRandom, isJameyError, systemClock, type JameyError } from '@jamey/core';
import { migrate, openDatabase, silentLogger, type Database } from '@jamey/data';
import { createTestSchema, describeWithInfra, uniqueName, waitFor, type TestSchema } from '@jamey/data/testing';
import {
  catalog,
  createInProcessTransport,
  createKafkaTransport,
  createOutbox,
  createOutboxRelay,
  DLQ_HEADERS,
  eventsMigrationsDir,
  eventsMigrationsTable,
  headersFor,
  type EventsObservation,
  type EventTransport,
  type ReceivedMessage,
} from '@jamey/events';
import { withTopicSuffix } from '@jamey/events/testing';
import { audit as pb, common } from '@jamey/proto';
import { createRpcClient, type PromiseClient } from '@jamey/rpc';
import type { RunningService } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../verifier/verify-audit.mjs';
import { startAuditService } from './service.js';
import { loadAuditSigningKey, type AuditSigningKey } from './signing-key.js';

const logger = createLogger({ service: 'audit-test', level: 'silent' });
const t0 = Date.UTC(2026, 0, 1);
const DLQ = 'jamey.audit.dlq.v1';

/** How one run reaches its infrastructure. */
interface Infra {
  readonly databaseUrl: string;
  readonly transport: EventTransport;
  /** Whether the transport keeps history (Kafka), so AUDIT_REPLAY_FROM has something to replay. */
  readonly retains: boolean;
  cleanup(): Promise<void>;
}

function auditServiceTests(setup: () => Promise<Infra>): void {
  let infra: Infra;
  let running: RunningService | undefined;
  let client: PromiseClient<typeof pb.AuditServiceService>;
  let producerDb: Database;
  const observed: EventsObservation[] = [];
  const deadLetters: ReceivedMessage[] = [];
  const clock = createManualClock(t0);
  const ids = createIdGenerator(clock, cryptoRandom);
  const outboxes = {
    memory: createOutbox({ source: 'memory', clock, ids }),
    soul: createOutbox({ source: 'soul', clock, ids }),
    consciousness: createOutbox({ source: 'consciousness', clock, ids }),
  };
  const published: common.EventEnvelope[] = [];

  let signingKey: AuditSigningKey;
  const start = async (replayFrom?: Date): Promise<void> => {
    running = await startAuditService({
      settings: { name: 'audit', host: '127.0.0.1', port: 0, adminPort: 0, databaseUrl: infra.databaseUrl, databasePoolSize: 4, logLevel: 'silent', shutdownGraceMs: 1000 },
      transport: infra.transport,
      logger,
      replayFrom,
      onEvent: (observation) => observed.push(observation),
      // The tree-head worker runs through every test below, restarts included.
      treeHeads: { key: signingKey, origin: 'jamey.io/audit-test', intervalMs: 50 },
    });
    client?.close();
    client = createRpcClient(pb.AuditServiceService, { dependency: 'audit', address: `127.0.0.1:${running.port}`, clock: systemClock });
  };

  /** Commits events through the producers' outboxes (one second apart) and relays them. */
  async function publish(...events: Array<(tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<common.EventEnvelope>>): Promise<common.EventEnvelope[]> {
    const envelopes: common.EventEnvelope[] = [];
    for (const event of events) {
      envelopes.push(await producerDb.transaction(event));
      clock.advance(1000);
    }
    await createOutboxRelay({ db: producerDb, transport: infra.transport, logger: silentLogger, clock }).drain();
    published.push(...envelopes);
    return envelopes;
  }
  const memoryDeleted = (id: string) => (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) =>
    outboxes.memory.append(tx, { definition: catalog['memory.deleted'], subject: id, data: { memoryId: id } });
  const trustChanged = (id: string, trust: number) => (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) =>
    outboxes.soul.append(tx, {
      definition: catalog['soul.trust_changed'],
      subject: id,
      data: { entityId: id, previousTrust: 0.5, trust, interactionId: '', valence: 0 },
    });
  const focusChanged = (id: string) => (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) =>
    outboxes.consciousness.append(tx, { definition: catalog['consciousness.focus_changed'], subject: id, data: {} });

  const query = (request: Partial<pb.QueryRecordsRequest>) => client.queryRecords({ type: '', source: '', subject: '', ...request });
  const all = async (): Promise<pb.AuditRecord[]> => (await query({ page: { pageSize: 500, pageToken: '' } })).records;
  const waitForRecords = (count: number) =>
    waitFor(async () => (await all()).length >= count, { timeoutMs: 30_000, message: `${count} audit records` });
  const errorOf = async (promise: Promise<unknown>): Promise<JameyError> => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    if (!isJameyError(error)) throw new Error(`expected a JameyError, got ${String(error)}`);
    return error;
  };

  beforeAll(async () => {
    infra = await setup();
    signingKey = await loadAuditSigningKey({ pem: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }, 'jamey.io/audit-test');
    producerDb = await openDatabase({ url: 'pglite://memory' });
    await migrate(producerDb, { dir: eventsMigrationsDir, table: eventsMigrationsTable });
    await infra.transport.ensureTopics([DLQ]);
    await infra.transport.subscribe({ groupId: 'audit-test-dlq', topics: [DLQ], fromBeginning: true, handler: async (m) => void deadLetters.push(m) });
    await start();
  });

  afterAll(async () => {
    client?.close();
    await running?.stop();
    await infra?.transport.close();
    await producerDb?.close();
    await infra?.cleanup();
  });

  it('stores every event of every domain topic once, in order, with its canonical JSON', async () => {
    const envelopes = await publish(memoryDeleted('m-1'), trustChanged('e-1', 0.75), focusChanged('p-1'), memoryDeleted('m-2'));
    await waitForRecords(4);
    const records = await all();
    // Per topic the log keeps publication order; across topics the interleaving is the bus's.
    expect(records.map((r) => r.sequence)).toEqual([1, 2, 3, 4]);
    expect(new Set(records.map((r) => r.eventId))).toEqual(new Set(envelopes.map((e) => e.id)));
    const memoryIds = records.filter((r) => r.source === 'memory').map((r) => r.eventId);
    expect(memoryIds).toEqual([envelopes[0]!.id, envelopes[3]!.id]);
    const trust = records.find((r) => r.type === 'soul.trust_changed')!;
    expect(trust).toMatchObject({
      eventId: envelopes[1]!.id,
      source: 'soul',
      subject: 'e-1',
      eventTime: new Date(t0 + 1000),
      dataSchema: 'jamey.soul.v1.TrustChanged',
      topic: 'jamey.soul.events.v1',
    });
    expect(JSON.parse(trust.dataJson)).toEqual({ entityId: 'e-1', previousTrust: 0.5, trust: 0.75 });
    expect(records.find((r) => r.type === 'consciousness.focus_changed')).toMatchObject({ topic: 'jamey.consciousness.events.v1', dataJson: '{}' });
    expect(records.find((r) => r.subject === 'm-1')).toMatchObject({ dataJson: '{"memoryId":"m-1"}', topic: 'jamey.memory.events.v1' });
    for (const record of records) expect(record.recordTime).toBeInstanceOf(Date);
  });

  it('ignores a redelivered event', async () => {
    const original = published[0]!;
    const before = await all();
    // The duplicate and a new event share a key, so the new one lands only after the duplicate was handled.
    await infra.transport.send('jamey.memory.events.v1', [
      { key: original.subject, value: Buffer.from(common.EventEnvelope.encode(original).finish()), headers: headersFor(original) },
    ]);
    const [next] = await publish(memoryDeleted(original.subject));
    await waitForRecords(before.length + 1);
    const after = await all();
    expect(after).toHaveLength(before.length + 1);
    expect(after.filter((r) => r.eventId === original.id)).toHaveLength(1);
    expect(after.at(-1)).toMatchObject({ eventId: next!.id, sequence: before.length + 1 });
    expect(observed.some((o) => o.kind === 'duplicate' && o.eventId === original.id)).toBe(true);
  });

  it('keeps going after a malformed message, which goes to the dead-letter topic', async () => {
    const before = (await all()).length;
    await infra.transport.send('jamey.memory.events.v1', [{ key: 'm-9', value: Buffer.from('definitely not an envelope'), headers: {} }]);
    const [next] = await publish(memoryDeleted('m-9'));
    await waitForRecords(before + 1);
    expect((await all()).at(-1)?.eventId).toBe(next!.id);
    await waitFor(() => deadLetters.length > 0, { timeoutMs: 30_000, message: 'the dead letter' });
    expect(deadLetters[0]!.headers[DLQ_HEADERS.reason]).toBe('malformed_envelope');
    expect(deadLetters[0]!.headers[DLQ_HEADERS.groupId]).toBe('audit');
    expect(deadLetters[0]!.value.toString()).toBe('definitely not an envelope');
  });

  it('filters by type, source, subject and a half-open event-time range', async () => {
    const types = async (request: Partial<pb.QueryRecordsRequest>) => (await query(request)).records.map((r) => `${r.type}:${r.subject}`);
    expect(await types({ type: 'soul.trust_changed' })).toEqual(['soul.trust_changed:e-1']);
    expect(await types({ source: 'consciousness' })).toEqual(['consciousness.focus_changed:p-1']);
    expect(await types({ subject: 'm-1' })).toEqual(['memory.deleted:m-1', 'memory.deleted:m-1']);
    expect(await types({ source: 'memory', subject: 'm-2' })).toEqual(['memory.deleted:m-2']);
    // Events were stamped t0, t0+1s, t0+2s, …: start is inclusive, end exclusive.
    expect(await types({ startTime: new Date(t0 + 1000), endTime: new Date(t0 + 3000) })).toEqual(
      expect.arrayContaining(['soul.trust_changed:e-1', 'consciousness.focus_changed:p-1']),
    );
    expect(await types({ startTime: new Date(t0 + 1000), endTime: new Date(t0 + 3000) })).toHaveLength(2);
    expect(await types({ type: 'memory.encoded' })).toEqual([]);
  });

  it('pages oldest first with an opaque cursor, default and capped page sizes', async () => {
    const everything = await all();
    const seen: number[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await query({ page: { pageSize: 2, pageToken } });
      expect(page.records.length).toBeLessThanOrEqual(2);
      seen.push(...page.records.map((r) => r.sequence));
      pageToken = page.page?.nextPageToken ?? '';
      pages++;
    } while (pageToken !== '');
    expect(seen).toEqual(everything.map((r) => r.sequence));
    expect(pages).toBe(Math.ceil(everything.length / 2));
    // Filters hold across pages.
    const first = await query({ source: 'memory', page: { pageSize: 1, pageToken: '' } });
    const second = await query({ source: 'memory', page: { pageSize: 1, pageToken: first.page!.nextPageToken } });
    expect([first.records[0]!.subject, second.records[0]!.subject]).toEqual(['m-1', 'm-2']);
    expect((await query({})).records).toHaveLength(everything.length); // page 0 → default 50
    expect((await query({ page: { pageSize: 100_000, pageToken: '' } })).page?.nextPageToken).toBe('');
  });

  it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
    const badToken = await errorOf(query({ page: { pageSize: 0, pageToken: 'not-a-token' } }));
    expect([badToken.code, badToken.details.field]).toEqual(['INVALID_ARGUMENT', 'page_token']);
    const emptyRange = await errorOf(query({ startTime: new Date(t0), endTime: new Date(t0) }));
    expect([emptyRange.code, emptyRange.details.field]).toEqual(['INVALID_ARGUMENT', 'end_time']);
    const inverted = await errorOf(query({ startTime: new Date(t0 + 1), endTime: new Date(t0) }));
    expect(inverted.code).toBe('INVALID_ARGUMENT');
    const negative = await errorOf(query({ page: { pageSize: -1, pageToken: '' } }));
    expect([negative.code, negative.details.field]).toEqual(['INVALID_ARGUMENT', 'page_size']);
  });

  it('serves signed checkpoints and proofs the independent verifier accepts, verifies the log, and rejects bad sizes', async () => {
    const size = (await all()).length;
    expect(size).toBeGreaterThan(3);
    await waitFor(async () => (await client.getCheckpoint({ treeSize: 0 }).catch(() => undefined))?.treeSize === size, {
      message: `a signed tree head of size ${size}`,
    });
    const info = await client.getLogInfo({});
    expect(info).toEqual({ verifierKey: signingKey.verifierKey, origin: 'jamey.io/audit-test' });
    const { checkpoint } = await client.getCheckpoint({ treeSize: 0 });
    const b64 = (p: { proof: Buffer[]; entry?: Buffer }) => ({ ...p, ...(p.entry ? { entry: p.entry.toString('base64') } : {}), proof: p.proof.map((h) => h.toString('base64')) });
    const inclusions = [
      b64(await client.getInclusionProof({ leaf: { $case: 'sequence', value: 1 }, treeSize: 0 })),
      b64(await client.getInclusionProof({ leaf: { $case: 'leafIndex', value: size - 1 }, treeSize: size })),
    ];
    // An older head: earlier tests grew the log while the worker signed every 50 ms.
    let fromSize = 1;
    while (fromSize < size && !(await client.getCheckpoint({ treeSize: fromSize }).catch(() => undefined))) fromSize += 1;
    expect(fromSize).toBeLessThan(size);
    const previous = (await client.getCheckpoint({ treeSize: fromSize })).checkpoint;
    const consistency = b64(await client.getConsistencyProof({ fromSize, toSize: 0 }));
    expect(consistency).toMatchObject({ fromSize, toSize: size });
    expect(verifyBundle({ key: info.verifierKey, checkpoint, inclusions: inclusions as never, previous, consistency: consistency as never })).toHaveLength(4);
    expect(await client.verifyLog({})).toEqual({ ok: true, treeSize: size, checkedTreeSize: size, badIndex: 0, problem: '', detail: '' });

    const beyond = await errorOf(client.getInclusionProof({ leaf: { $case: 'leafIndex', value: size }, treeSize: size }));
    expect([beyond.code, beyond.details.field]).toEqual(['INVALID_ARGUMENT', 'leaf_index']);
    const tooBig = await errorOf(client.getConsistencyProof({ fromSize: 1, toSize: size + 1 }));
    expect([tooBig.code, tooBig.details.field]).toEqual(['INVALID_ARGUMENT', 'to_size']);
    const inverted = await errorOf(client.getConsistencyProof({ fromSize: 3, toSize: 2 }));
    expect([inverted.code, inverted.details.field]).toEqual(['INVALID_ARGUMENT', 'from_size']);
    expect((await errorOf(client.getCheckpoint({ treeSize: size + 5 }))).code).toBe('NOT_FOUND');
  });

  // A Kafka consumer group rejoining after a seek takes a while (about 15 s on the dev broker).
  it('survives a restart without losing or repeating records, also when replaying', async () => {
    const before = await all();
    await running!.stop();
    // Replay from before the first event: with Kafka every event is redelivered and ignored.
    const duplicatesAt = observed.length;
    await start(new Date(Date.now() - 10 * 60_000));
    const [next] = await publish(focusChanged('p-2'));
    await waitForRecords(before.length + 1);
    const after = await all();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({ eventId: next!.id, sequence: before.length + 1 });
    if (infra.retains) {
      // Other partitions replay concurrently with the new event: wait until each stored event came back.
      const replayed = () => new Set(observed.slice(duplicatesAt).filter((o) => o.kind === 'duplicate').map((o) => (o as { eventId: string }).eventId));
      await waitFor(() => replayed().size >= before.length, { timeoutMs: 30_000, message: 'every stored event replayed' });
      expect(replayed()).toEqual(new Set(before.map((r) => r.eventId)));
      expect(await all()).toHaveLength(before.length + 1);
    }
  }, 90_000);
}

describe('audit service on PGlite with the in-process bus', () => {
  auditServiceTests(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-service-'));
    return {
      databaseUrl: `pglite://${dir}`,
      transport: createInProcessTransport(),
      retains: false,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
});

describeWithInfra(['AUDIT_DATABASE_URL', 'KAFKA_BROKERS'], 'audit service on Postgres and Kafka', (env) => {
  auditServiceTests(async () => {
    const run = uniqueName('audit');
    const schema: TestSchema = await createTestSchema(env.AUDIT_DATABASE_URL!, 'audit_service');
    const kafka = createKafkaTransport({ brokers: env.KAFKA_BROKERS!.split(','), clientId: run, logger: silentLogger });
    const topics = withTopicSuffix(kafka, run);
    // Private topics and private consumer groups: nothing of another run or a live audit service is seen.
    const transport: EventTransport = { ...topics, subscribe: (options) => topics.subscribe({ ...options, groupId: `${options.groupId}.${run}` }) };
    return { databaseUrl: schema.url, transport, retains: true, cleanup: () => schema.drop() };
  });
});
