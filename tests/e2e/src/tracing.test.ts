import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithInfra } from '@jamey/data/testing';
import { SPAN_KIND, type CollectedSpan } from '@jamey/telemetry/testing';
import { jaegerQuery, serviceOf, type JaegerQuery } from './jaeger.js';
import { startRealSystem, type JameySystem } from './system.js';

// The six services as real processes on real Postgres and Kafka, each started the way
// production starts them (node --import @jamey/telemetry/register), exporting to the real
// Jaeger of scripts/infra.sh. The test sends requests with its own traceparent, so it knows
// each trace id, and asserts the edges between services, never whole span trees.
const INFRA = [
  'MEMORY_DATABASE_URL',
  'SOUL_DATABASE_URL',
  'CONSCIOUSNESS_DATABASE_URL',
  'AUDIT_DATABASE_URL',
  'TELEMETRY_DATABASE_URL',
  'GATEWAY_DATABASE_URL',
  'KAFKA_BROKERS',
  'REDIS_URL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'JAMEY_JAEGER_QUERY_URL',
];

const MEMORY_TOPIC = 'jamey.memory.events.v1';
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The span's ancestors within its trace, nearest first. */
function ancestors(span: CollectedSpan, trace: readonly CollectedSpan[]): CollectedSpan[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain: CollectedSpan[] = [];
  for (let parent = byId.get(span.parentSpanId); parent !== undefined && chain.length < 100; parent = byId.get(parent.parentSpanId)) {
    chain.push(parent);
  }
  return chain;
}

/** A gRPC call from `caller` to `service`: the caller's client span and the callee's server span, its child. */
function grpcEdge(trace: readonly CollectedSpan[], caller: string, callee: string, service: RegExp) {
  for (const client of trace) {
    if (client.kind !== SPAN_KIND.client || serviceOf(client) !== caller || !service.test(String(client.attributes['rpc.service']))) continue;
    const server = trace.find((s) => s.kind === SPAN_KIND.server && serviceOf(s) === callee && s.parentSpanId === client.spanId);
    if (server !== undefined) return { client, server };
  }
  return undefined;
}

/** The gateway's span for the request the test sent with parent span `parent`. */
const gatewaySpan = (trace: readonly CollectedSpan[], parent: string) =>
  trace.find((s) => s.kind === SPAN_KIND.server && serviceOf(s) === 'gateway' && s.parentSpanId === parent);

describeWithInfra(INFRA, 'one trace per request in a real Jaeger, six processes', (infra) => {
  let system: JameySystem;
  let jaeger: JaegerQuery;
  const started = new Date(Date.now() - 1_000);
  const saved = { ...process.env };

  beforeAll(async () => {
    jaeger = jaegerQuery(infra['JAMEY_JAEGER_QUERY_URL']!);
    // Every process the harness starts inherits this environment: the production bootstrap,
    // the infra's OTLP endpoint, every trace sampled, and a short batch delay so spans reach
    // Jaeger quickly.
    Object.assign(process.env, {
      NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import=@jamey/telemetry/register`.trim(),
      OTEL_EXPORTER_OTLP_ENDPOINT: infra['OTEL_EXPORTER_OTLP_ENDPOINT'],
      OTEL_EXPORTER_OTLP_PROTOCOL: process.env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf',
      OTEL_TRACES_SAMPLER_ARG: '1',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    delete process.env['OTEL_TRACES_SAMPLER'];
    delete process.env['OTEL_SDK_DISABLED'];
    system = await startRealSystem(infra);
  }, 180_000);
  afterAll(async () => {
    process.env = saved;
    await system?.stop();
  }, 60_000);

  const post = async (path: string, body: unknown, traceId: string, parent: string): Promise<Record<string, unknown>> => {
    const response = await fetch(`${system.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: system.authorization, traceparent: `00-${traceId}-${parent}-01` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(json)).toBe(201);
    // The gateway names the request's trace in a W3C traceresponse header.
    expect(response.headers.get('traceresponse')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    return json;
  };

  it('follows POST /v1/memories from the gateway over gRPC to memory, and through Kafka to audit', async () => {
    const traceId = hex(16);
    const parent = hex(8);
    await post('/v1/memories', { content: `Jamey traced a heron ${traceId.slice(0, 8)}`, tags: ['trace'] }, traceId, parent);

    const { gateway, call, create } = await jaeger.poll(
      'the memory request trace: gateway → memory, and memory’s outbox create span',
      () => jaeger.trace(traceId),
      (trace) => {
        const gateway = gatewaySpan(trace, parent);
        const call = grpcEdge(trace, 'gateway', 'memory', /^jamey\.memory\.v1\.MemoryService$/);
        const create = trace.find((s) => s.kind === SPAN_KIND.producer && serviceOf(s) === 'memory' && s.name === `create ${MEMORY_TOPIC}`);
        return gateway && call && create ? { gateway, call, create, trace } : undefined;
      },
    ).then(({ trace, ...found }) => {
      // The create span happened inside memory's handling of the gateway's call.
      expect(ancestors(found.create, trace).map((s) => s.spanId)).toContain(found.call.server.spanId);
      expect(ancestors(found.call.client, trace).map((s) => s.spanId)).toContain(found.gateway.spanId);
      return found;
    });

    expect(gateway.attributes).toMatchObject({ 'http.route': '/v1/memories' });
    expect(call.client.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'jamey.memory.v1.MemoryService' });
    expect(call.server.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.method': call.client.attributes['rpc.method'] });
    expect(create.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': MEMORY_TOPIC, 'messaging.operation.type': 'create' });
    const eventId = create.attributes['messaging.message.id'];
    expect(eventId).toEqual(expect.any(String));

    // Through Kafka: audit's consumer span is a new trace linked to memory's create span.
    const linksToCreate = (s: CollectedSpan): boolean => s.links.some((l) => l.traceId === traceId && l.spanId === create.spanId);
    const consumed = await jaeger.poll(
      'audit’s process span linked to the memory event',
      () => jaeger.search('audit', started),
      (spans) => spans.find((s) => s.kind === SPAN_KIND.consumer && s.name === `process ${MEMORY_TOPIC}` && linksToCreate(s)),
    );
    expect(consumed.traceId).not.toBe(traceId);
    expect(consumed.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': MEMORY_TOPIC,
      'messaging.operation.type': 'process',
      'messaging.message.id': eventId,
      'jamey.event.type': 'memory.encoded',
    });
    expect(String(consumed.attributes['messaging.consumer.group.name'])).toMatch(/^audit_e2e/);

    // And the relay's publish is its own trace, linked to the same create span.
    const sent = await jaeger.poll(
      'memory’s relay send span linked to the event',
      () => jaeger.search('memory', started),
      (spans) => spans.find((s) => s.kind === SPAN_KIND.producer && s.name === `send ${MEMORY_TOPIC}` && linksToCreate(s)),
    );
    expect(sent.parentSpanId).toBe('');
    expect(sent.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.type': 'send' });
  }, 240_000);

  it('follows a perception from the gateway to consciousness, and on to memory', async () => {
    const traceId = hex(16);
    const parent = hex(8);
    await post('/v1/perceptions', { input: `a heron at the lab ${traceId.slice(0, 8)}`, source: 'e2e', salience: 0.7 }, traceId, parent);

    const { gateway, toConsciousness, toMemory, trace } = await jaeger.poll(
      'the perception trace: gateway → consciousness → memory',
      () => jaeger.trace(traceId),
      (trace) => {
        const gateway = gatewaySpan(trace, parent);
        const toConsciousness = grpcEdge(trace, 'gateway', 'consciousness', /^jamey\.consciousness\.v1\.ConsciousnessService$/);
        const toMemory = grpcEdge(trace, 'consciousness', 'memory', /^jamey\.memory\.v1\.MemoryService$/);
        return gateway && toConsciousness && toMemory ? { gateway, toConsciousness, toMemory, trace } : undefined;
      },
    );
    expect(gateway.attributes).toMatchObject({ 'http.route': '/v1/perceptions' });
    expect(toConsciousness.server.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'jamey.consciousness.v1.ConsciousnessService' });
    // Consciousness called memory while handling the gateway's call, in the same trace.
    expect(ancestors(toMemory.client, trace).map((s) => s.spanId)).toContain(toConsciousness.server.spanId);
    expect(toMemory.server.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.method': toMemory.client.attributes['rpc.method'] });
    expect(trace.every((s) => s.traceId === traceId)).toBe(true);
  }, 240_000);

  it('makes no spans for health checks and metrics scrapes', async () => {
    // The telemetry service and the gateway's readiness have been polling every service
    // since the start; none of that may be in Jaeger.
    for (const service of ['gateway', 'memory', 'consciousness', 'soul', 'audit', 'telemetry']) {
      const spans = await jaeger.search(service, started);
      // These served the traced requests above: an empty search would prove nothing.
      if (['gateway', 'memory', 'consciousness', 'audit'].includes(service)) expect(spans.length, service).toBeGreaterThan(0);
      const noise = spans.filter(
        (s) =>
          /grpc\.health/.test(String(s.attributes['rpc.service'] ?? s.name)) ||
          /\/(healthz|readyz|metrics)\b/.test(String(s.attributes['url.path'] ?? s.attributes['url.full'] ?? s.attributes['http.target'] ?? '')),
      );
      expect(noise.map((s) => `${service}: ${s.name}`)).toEqual([]);
    }
  }, 60_000);
});
