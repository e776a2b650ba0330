/**
 * Refused service calls become audit records: a real audit service and a real memory kit
 * (the service kit every Jamey service is built on, with stub handlers), each with the
 * service-token interceptor, are called without a token, with a garbage token and with a valid
 * token from a caller that is not allowed. Each refusal travels through the refusing service's
 * outbox and the bus (Kafka, or the in-process bus) into the audit log, where QueryRecords
 * finds it by outcome, actor and action.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isJameyError, systemClock, type JameyError } from '@jamey/core';
import { createTestSchema, describeWithInfra, uniqueName, waitFor, type TestSchema } from '@jamey/data/testing';
import { createInProcessTransport, createKafkaTransport, type EventTransport } from '@jamey/events';
import { withTopicSuffix } from '@jamey/events/testing';
import { audit as pb, memory as memoryPb } from '@jamey/proto';
import { createRpcClient } from '@jamey/rpc';
import { createServiceKit, loadServiceAuth, startServiceKit, type RunningService, type ServiceKit } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { generateServiceKeyring } from '@jamey/security';
import type { ServiceName } from '@jamey/topology';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditService } from './service.js';

const logger = createLogger({ service: 'audit-refusals-test', level: 'silent' });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const GET_MEMORY = '/jamey.memory.v1.MemoryService/GetMemory';
const GET_LOG_INFO = '/jamey.audit.v1.AuditService/GetLogInfo';

/** Each service's auth from its variables, with keys as `npm run service-key` makes them (generateServiceKey). */
async function serviceKeys(services: readonly ServiceName[]) {
  const ring = await generateServiceKeyring(services);
  const publicKeys = JSON.stringify(ring.publicJwks);
  return (service: ServiceName) =>
    loadServiceAuth(service, { JAMEY_SERVICE_SIGNING_KEY: JSON.stringify(ring.privateJwks[service]), JAMEY_SERVICE_PUBLIC_KEYS: publicKeys }, logger);
}

interface Infra {
  readonly auditDatabaseUrl: string;
  readonly memoryDatabaseUrl: string;
  readonly transport: EventTransport;
  cleanup(): Promise<void>;
}

const settings = (name: 'audit' | 'memory', databaseUrl: string) => ({
  name,
  host: '127.0.0.1',
  port: 0,
  adminPort: 0,
  databaseUrl,
  databasePoolSize: 4,
  logLevel: 'silent' as const,
  shutdownGraceMs: 1000,
});

const errorOf = async (promise: Promise<unknown>): Promise<JameyError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isJameyError(error)) throw new Error(`expected a JameyError, got ${String(error)}`);
  return error;
};

function refusalTests(setup: () => Promise<Infra>): void {
  let infra: Infra;
  let audit: RunningService;
  let memoryKit: ServiceKit;
  let memory: RunningService;
  let authOf: Awaited<ReturnType<typeof serviceKeys>>;
  const migrationsDir = mkdtempSync(join(tmpdir(), 'memory-stub-migrations-'));

  /** A client of `address` sending `token` (or a token minted by `caller`, or none). */
  const clientOf = async <S extends typeof pb.AuditServiceService | typeof memoryPb.MemoryServiceService>(
    definition: S,
    port: number,
    callee: 'audit' | 'memory',
    as?: ServiceName | { token: string },
  ) => {
    let serviceToken: ((sub?: string) => Promise<string>) | undefined;
    if (typeof as === 'string') {
      const minter = (await authOf(as)).minter;
      serviceToken = (sub) => minter.mint(callee, sub);
    } else if (as) {
      serviceToken = () => Promise.resolve(as.token);
    }
    return createRpcClient(definition, { dependency: callee, address: `127.0.0.1:${port}`, clock: systemClock, ...(serviceToken ? { serviceToken } : {}) });
  };
  let reader: Awaited<ReturnType<typeof clientOf<typeof pb.AuditServiceService>>>;
  const query = (request: Partial<pb.QueryRecordsRequest>) =>
    reader.queryRecords({ type: '', source: '', subject: '', page: { pageSize: 500, pageToken: '' }, ...request });
  const payload = (record: pb.AuditRecord) => JSON.parse(record.dataJson) as Record<string, unknown>;

  beforeAll(async () => {
    infra = await setup();
    authOf = await serviceKeys(['gateway', 'audit', 'memory', 'consciousness', 'soul']);
    audit = await startAuditService({
      settings: settings('audit', infra.auditDatabaseUrl),
      transport: infra.transport,
      logger,
      serviceAuth: await authOf('audit'),
    });
    // Three records one by one, then the rest folds (the bucket refills once in 1000 s).
    memoryKit = await createServiceKit({
      settings: settings('memory', infra.memoryDatabaseUrl),
      transport: infra.transport,
      migrationsDir,
      logger,
      serviceAuth: await authOf('memory'),
      refusalBudget: { burst: 3, perSecond: 0.001 },
      refusalSummaryIntervalMs: 3_600_000,
    });
    const unused = () => Promise.reject(new Error('not used'));
    memoryKit.rpc.addService<memoryPb.MemoryServiceServer>('jamey.memory.v1.MemoryService', memoryPb.MemoryServiceService, {
      storeMemory: unused,
      getMemory: unused,
      searchMemories: unused,
      deleteMemory: unused,
    });
    memory = await startServiceKit(memoryKit);
    // The gateway is the one caller audit allows.
    reader = await clientOf(pb.AuditServiceService, audit.port, 'audit', 'gateway');
  }, 60_000);

  afterAll(async () => {
    reader?.close();
    await memory?.stop();
    await audit?.stop();
    await infra?.transport.close();
    await infra?.cleanup();
    rmSync(migrationsDir, { recursive: true, force: true });
  });

  it('records each call audit refuses: missing token, garbage token, a caller that is not allowed', async () => {
    const anonymous = await clientOf(pb.AuditServiceService, audit.port, 'audit');
    const garbage = await clientOf(pb.AuditServiceService, audit.port, 'audit', { token: 'a.b.c' });
    const consciousness = await clientOf(pb.AuditServiceService, audit.port, 'audit', 'consciousness');
    expect((await errorOf(anonymous.getLogInfo({}, { metadata: { traceparent: TRACEPARENT } }))).code).toBe('UNAUTHENTICATED');
    expect((await errorOf(garbage.getLogInfo({}))).code).toBe('UNAUTHENTICATED');
    expect((await errorOf(consciousness.getLogInfo({}))).code).toBe('PERMISSION_DENIED');
    for (const client of [anonymous, garbage, consciousness]) client.close();

    await waitFor(async () => (await query({ type: 'audit.call_denied' })).records.length >= 3, { timeoutMs: 30_000, message: '3 audit.call_denied records' });
    const records = (await query({ type: 'audit.call_denied' })).records;
    expect(records).toHaveLength(3);
    const unauthenticated = (await query({ type: 'audit.call_denied', outcome: 'unauthenticated' })).records;
    expect(unauthenticated.map((r) => payload(r)['reason']).sort()).toEqual(['malformed', 'missing']);
    const missing = unauthenticated.find((r) => payload(r)['reason'] === 'missing')!;
    expect(missing).toMatchObject({ source: 'audit', subject: 'anonymous', action: GET_LOG_INFO, resource: 'audit', outcome: 'unauthenticated', dataSchema: 'jamey.audit.v1.AccessRecord' });
    expect(missing.actor).toBeUndefined();
    expect(payload(missing)).toMatchObject({
      action: GET_LOG_INFO,
      outcome: 'ACCESS_OUTCOME_UNAUTHENTICATED',
      protocol: 'ACCESS_PROTOCOL_GRPC',
      status: 16,
      ip: '127.0.0.1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(payload(missing)['userAgent']).toMatch(/grpc-node-js/);

    const denied = (await query({ actor: 'consciousness' })).records;
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ type: 'audit.call_denied', subject: 'consciousness', action: GET_LOG_INFO, outcome: 'denied' });
    expect(payload(denied[0]!)).toMatchObject({ status: 7, reason: 'caller_not_allowed', callerService: 'consciousness' });
  }, 60_000);

  it('records another service\'s refusals through its outbox, and folds a flood into one summary', async () => {
    const anonymous = await clientOf(memoryPb.MemoryServiceService, memory.port, 'memory');
    const soul = await clientOf(memoryPb.MemoryServiceService, memory.port, 'memory', 'soul');
    expect((await errorOf(soul.getMemory({ id: 'm-1' }))).code).toBe('PERMISSION_DENIED');
    // A flood of 11 calls without a token: two more fit the budget of 3, nine fold.
    for (let i = 0; i < 11; i += 1) expect((await errorOf(anonymous.getMemory({ id: `m-${i}` }))).code).toBe('UNAUTHENTICATED');
    anonymous.close();
    soul.close();
    await memoryKit.refusals!.flush();

    const byMemory = async () => (await query({ type: 'memory.call_denied' })).records;
    await waitFor(async () => (await byMemory()).length >= 4, { timeoutMs: 30_000, message: '4 memory.call_denied records' });
    const records = await byMemory();
    expect(records).toHaveLength(4);
    expect(records.map((r) => [r.actor, r.action, r.resource, r.outcome])).toEqual(
      expect.arrayContaining([['soul', GET_MEMORY, 'memory', 'denied']]),
    );
    const summaries = records.filter((r) => Number(payload(r)['count'] ?? 0) > 1);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ action: GET_MEMORY, outcome: 'unauthenticated' });
    expect(payload(summaries[0]!)).toMatchObject({ count: 9, reason: 'missing', status: 16 });
    // What differs between the folded calls is left out.
    expect(payload(summaries[0]!)['ip']).toBeUndefined();
    expect(payload(summaries[0]!)['firstTime']).toBeDefined();
    // Every refusal is counted, recorded or folded.
    const metrics = await memoryKit.metrics.metrics();
    expect(metrics).toContain('jamey_security_refusals_total{outcome="unauthenticated",reason="missing",service="memory"} 11');
    expect(metrics).toContain('jamey_security_refusals_total{outcome="denied",reason="caller_not_allowed",service="memory"} 1');
    expect(metrics).toContain('jamey_security_refusals_folded_total{service="memory"} 9');
  }, 60_000);

  it('validates the access filters and binds page tokens to them', async () => {
    const bad = await errorOf(query({ outcome: 'maybe' }));
    expect([bad.code, bad.details.field]).toEqual(['INVALID_ARGUMENT', 'outcome']);
    const first = await query({ outcome: 'unauthenticated', page: { pageSize: 1, pageToken: '' } });
    expect(first.records).toHaveLength(1);
    expect(first.page?.nextPageToken).not.toBe('');
    const second = await query({ outcome: 'unauthenticated', page: { pageSize: 1, pageToken: first.page!.nextPageToken } });
    expect(second.records[0]!.sequence).toBeGreaterThan(first.records[0]!.sequence);
    const other = await errorOf(query({ outcome: 'denied', page: { pageSize: 1, pageToken: first.page!.nextPageToken } }));
    expect([other.code, other.details.field]).toEqual(['INVALID_ARGUMENT', 'page_token']);
  });
}

describe('refused calls on PGlite with the in-process bus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-refusals-'));
  refusalTests(async () => ({
    auditDatabaseUrl: `pglite://${dir}/audit`,
    memoryDatabaseUrl: `pglite://${dir}/memory`,
    transport: createInProcessTransport(),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  }));
});

describeWithInfra(['AUDIT_DATABASE_URL', 'MEMORY_DATABASE_URL', 'KAFKA_BROKERS'], 'refused calls on Postgres and Kafka', (env) => {
  refusalTests(async () => {
    const run = uniqueName('refusals');
    const auditSchema: TestSchema = await createTestSchema(env.AUDIT_DATABASE_URL!, 'audit_refusals');
    const memorySchema: TestSchema = await createTestSchema(env.MEMORY_DATABASE_URL!, 'memory_refusals');
    const kafka = createKafkaTransport({ brokers: env.KAFKA_BROKERS!.split(','), clientId: run, logger });
    const topics = withTopicSuffix(kafka, run);
    // Private topics and consumer groups: nothing of another run or a live audit service is seen.
    const transport: EventTransport = { ...topics, subscribe: (options) => topics.subscribe({ ...options, groupId: `${options.groupId}.${run}` }) };
    return {
      auditDatabaseUrl: auditSchema.url,
      memoryDatabaseUrl: memorySchema.url,
      transport,
      cleanup: async () => {
        await auditSchema.drop();
        await memorySchema.drop();
      },
    };
  });
});
