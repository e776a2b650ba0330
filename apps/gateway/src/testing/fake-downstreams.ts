/**
 * Real gRPC servers on 127.0.0.1:0 standing in for every downstream, for the gateway's tests.
 * Each serves small in-memory handlers that a test can replace one method at a time, and
 * records every call with the deadline the server saw.
 */
import { notFound, systemClock, type Clock } from '@jamey/core';
import { audit, consciousness, memory, soul, telemetry } from '@jamey/proto';
import { createRpcServer, type CallContext, type RpcServer, type ServiceHandlers } from '@jamey/rpc';
import { createServiceAuth, type ServiceKeyring } from '@jamey/security';
import { GRPC_SERVICES } from '@jamey/topology';
import { DOWNSTREAM_DEFINITIONS, DOWNSTREAMS, type Downstream } from '../clients.js';

/** The handlers of every fake downstream. */
export interface FakeHandlers {
  memory: ServiceHandlers<memory.MemoryServiceServer>;
  consciousness: ServiceHandlers<consciousness.ConsciousnessServiceServer>;
  soul: ServiceHandlers<soul.SoulServiceServer>;
  audit: ServiceHandlers<audit.AuditServiceServer>;
  telemetry: ServiceHandlers<telemetry.TelemetryServiceServer>;
}

/** One call a fake downstream served. */
export interface RecordedCall {
  readonly service: Downstream;
  readonly method: string;
  readonly request: unknown;
  /** The deadline the server saw, epoch ms. */
  readonly deadline: number | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The verified calling service and end user (only when the fakes verify service tokens). */
  readonly caller?: string | undefined;
  readonly userSubject?: string | undefined;
}

/** Running fake downstreams. */
export interface FakeDownstreams {
  readonly addresses: Readonly<Record<Downstream, string>>;
  /** The handlers being served; replace a method to change behaviour, `reset()` restores them. */
  readonly handlers: FakeHandlers;
  readonly calls: RecordedCall[];
  /** Restores the default handlers and forgets recorded calls. */
  reset(): void;
  /** Sets one downstream's `grpc.health.v1` status. */
  setServing(name: Downstream, serving: boolean): void;
  /** Stops one downstream's server: calls to it now fail as unavailable. */
  stop(name: Downstream): Promise<void>;
  /** Stops every server. */
  close(): Promise<void>;
}

const FIXED_TIME = new Date('2026-01-02T03:04:05.678Z');

/** A memory as a fake would return it. */
export function sampleMemory(overrides: Partial<memory.Memory> = {}): memory.Memory {
  return {
    id: '0190a0b0-c0d0-7e00-8f00-000000000001',
    content: 'the sky was red',
    layer: memory.MemoryLayer.MEMORY_LAYER_EPISODIC,
    tags: ['sky'],
    importance: 0.5,
    createTime: FIXED_TIME,
    ...overrides,
  };
}

/** An entity as a fake would return it. */
export function sampleEntity(overrides: Partial<soul.Entity> = {}): soul.Entity {
  return { id: 'user:ada', name: 'Ada', trust: 0.5, interactionCount: 0, createTime: FIXED_TIME, updateTime: FIXED_TIME, ...overrides };
}

/** A perception as a fake would return it. */
export function samplePerception(overrides: Partial<consciousness.Perception> = {}): consciousness.Perception {
  return {
    id: '0190a0b0-c0d0-7e00-8f00-0000000000aa',
    input: 'hello',
    source: 'chat',
    salience: 0.7,
    entityId: '',
    perceiveTime: FIXED_TIME,
    ...overrides,
  };
}

function defaultHandlers(clock: Clock): FakeHandlers {
  const memories = new Map<string, memory.Memory>();
  const entities = new Map<string, soul.Entity>();
  let nextId = 1;
  const uuid = (): string => `0190a0b0-c0d0-7e00-8f00-${String(nextId++).padStart(12, '0')}`;
  return {
    memory: {
      async storeMemory(request) {
        const stored = sampleMemory({
          id: uuid(),
          content: request.content,
          layer: request.layer === memory.MemoryLayer.MEMORY_LAYER_UNSPECIFIED ? memory.MemoryLayer.MEMORY_LAYER_EPISODIC : request.layer,
          tags: request.tags,
          importance: request.importance ?? 0.5,
        });
        memories.set(stored.id, stored);
        return { memory: stored };
      },
      async getMemory(request) {
        const found = memories.get(request.id);
        if (!found) throw notFound('memory', request.id);
        return { memory: found };
      },
      async searchMemories(request) {
        const hits = [...memories.values()]
          .filter((m) => m.content.includes(request.query))
          .filter((m) => request.layer === memory.MemoryLayer.MEMORY_LAYER_UNSPECIFIED || m.layer === request.layer)
          .map((m) => ({ memory: m, rank: 0.5 }));
        return { hits, page: { nextPageToken: '' } };
      },
      async deleteMemory(request) {
        if (!memories.delete(request.id)) throw notFound('memory', request.id);
        return {};
      },
    },
    consciousness: {
      async perceive(request) {
        const perception = samplePerception({ input: request.input, source: request.source, salience: request.salience, entityId: request.entityId });
        return {
          perception,
          focus: perception,
          focusChanged: true,
          context: [{ memoryId: '0190a0b0-c0d0-7e00-8f00-000000000001', content: 'the sky was red', rank: 0.25 }],
          sourceTrust: request.entityId === '' ? undefined : 0.5,
          degradedDependencies: [],
        };
      },
      async getState() {
        return { state: { focus: undefined, recent: [], version: 0, perceptionCount: 0, updateTime: undefined } };
      },
      async getIntegration() {
        return {
          integration: {
            defined: true,
            phiBits: 0.42,
            elements: ['vision', 'speech'],
            partitionA: ['vision'],
            partitionB: ['speech'],
            samplePairs: 255,
            gap: consciousness.IntegrationGap.INTEGRATION_GAP_UNSPECIFIED,
            version: 512,
            historyLimit: 256,
          },
        };
      },
    },
    soul: {
      async upsertEntity(request) {
        const existing = entities.get(request.id);
        const entity = existing ? { ...existing, name: request.name } : sampleEntity({ id: request.id, name: request.name });
        entities.set(request.id, entity);
        return { entity, created: existing === undefined };
      },
      async getEntity(request) {
        const entity = entities.get(request.id);
        if (!entity) throw notFound('entity', request.id);
        return { entity };
      },
      async recordInteraction(request) {
        const entity = entities.get(request.entityId);
        if (!entity) throw notFound('entity', request.entityId);
        const trustAfter = Math.min(1, Math.max(0, entity.trust + request.valence * 0.1));
        const updated = { ...entity, trust: trustAfter, interactionCount: entity.interactionCount + 1 };
        entities.set(entity.id, updated);
        return {
          entity: updated,
          interaction: {
            id: uuid(),
            entityId: entity.id,
            valence: request.valence,
            note: request.note,
            trustBefore: entity.trust,
            trustAfter,
            createTime: FIXED_TIME,
          },
        };
      },
    },
    audit: {
      async queryRecords() {
        return {
          records: [
            {
              sequence: 1,
              eventId: '0190a0b0-c0d0-7e00-8f00-0000000000ee',
              type: 'memory.encoded',
              source: 'memory',
              subject: '0190a0b0-c0d0-7e00-8f00-000000000001',
              eventTime: FIXED_TIME,
              recordTime: FIXED_TIME,
              traceparent: '',
              dataSchema: 'jamey.memory.v1.MemoryEncoded',
              dataJson: '{"memory":{"id":"0190a0b0-c0d0-7e00-8f00-000000000001"}}',
              topic: 'jamey.memory.events.v1',
            },
          ],
          page: { nextPageToken: 'next-1' },
        };
      },
      async getLogInfo() {
        return { verifierKey: 'jamey.io/audit+00000000+AQ==', origin: 'jamey.io/audit' };
      },
      async getCheckpoint(request) {
        return { checkpoint: 'jamey.io/audit\n8\n' + 'A'.repeat(43) + '=\n\n', treeSize: request.treeSize || 8, rootHash: Buffer.alloc(32, 1) };
      },
      async getInclusionProof(request) {
        const leafIndex = request.leaf?.$case === 'sequence' ? request.leaf.value - 1 : (request.leaf?.value ?? 0);
        return { leafIndex, treeSize: request.treeSize || 8, entry: Buffer.from('entry'), proof: [Buffer.alloc(32, 2)] };
      },
      async getConsistencyProof(request) {
        return { fromSize: request.fromSize, toSize: request.toSize || 8, proof: [Buffer.alloc(32, 3)] };
      },
      async verifyLog() {
        return { ok: false, treeSize: 8, checkedTreeSize: 8, badIndex: 6, problem: 'changed', detail: 'record 7 does not match its leaf hash' };
      },
    },
    telemetry: {
      async getSystemHealth() {
        return {
          status: telemetry.HealthStatus.HEALTH_STATUS_SERVING,
          services: [
            {
              service: 'memory',
              target: '127.0.0.1:50051',
              status: telemetry.HealthStatus.HEALTH_STATUS_SERVING,
              detail: '',
              latencyMs: 1.5,
              checkTime: new Date(clock.now()),
              dependencies: [],
              metricsDetail: '',
            },
          ],
          checkTime: new Date(clock.now()),
        };
      },
      async listAlerts() {
        return { alerts: [] };
      },
      async getMetricHistory() {
        return { series: [], intervalMs: 60_000 };
      },
    },
  };
}

const silentLogger = { error: () => undefined };

/**
 * Starts one fake gRPC server per downstream on 127.0.0.1:0, all SERVING. With a `keyring`,
 * each verifies service tokens as the real service does, and records the caller and user.
 */
export async function startFakeDownstreams(clock: Clock = systemClock, options: { readonly keyring?: ServiceKeyring } = {}): Promise<FakeDownstreams> {
  const handlers = defaultHandlers(clock);
  const calls: RecordedCall[] = [];
  const servers = new Map<Downstream, RpcServer>();
  const addresses: Partial<Record<Downstream, string>> = {};

  for (const name of DOWNSTREAMS) {
    const verifier = options.keyring ? (await createServiceAuth(name, { keyring: options.keyring })).verifier : undefined;
    const server = createRpcServer({ logger: silentLogger, ...(verifier ? { authenticate: verifier } : {}) });
    // Each method looks its handler up at call time, so tests can replace it.
    const dispatch = Object.fromEntries(
      Object.keys(DOWNSTREAM_DEFINITIONS[name]).map((method) => [
        method,
        (request: unknown, context: CallContext) => {
          calls.push({
            service: name,
            method,
            request,
            deadline: context.deadline,
            metadata: context.metadata.getMap(),
            caller: context.caller,
            userSubject: context.userSubject,
          });
          const handler = (handlers[name] as unknown as Record<string, (r: unknown, c: CallContext) => Promise<unknown>>)[method];
          return handler!(request, context);
        },
      ]),
    );
    server.addService(GRPC_SERVICES[name], DOWNSTREAM_DEFINITIONS[name], dispatch as never);
    const port = await server.listen('127.0.0.1', 0);
    server.setServing(true);
    servers.set(name, server);
    addresses[name] = `127.0.0.1:${port}`;
  }

  return {
    addresses: Object.freeze(addresses as Record<Downstream, string>),
    handlers,
    calls,
    reset() {
      Object.assign(handlers, defaultHandlers(clock));
      calls.length = 0;
    },
    setServing(name, serving) {
      servers.get(name)?.setServing(serving);
    },
    async stop(name) {
      await servers.get(name)?.shutdown(0);
      servers.delete(name);
    },
    async close() {
      await Promise.all([...servers.values()].map((server) => server.shutdown(0)));
      servers.clear();
    },
  };
}
