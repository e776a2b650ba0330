/**
 * Every /v1 request's access record, through a running gateway with its real outbox on
 * PostgreSQL and its relay publishing to Kafka: allowed, 401, 403 and 429 requests arrive on
 * `jamey.gateway.events.v1` with every field; a flood of refusals folds into summaries; and a
 * database outage does not fail the requests, it is counted.
 */
import { startTcpProxy, type TcpProxy } from '@jamey/cache/testing';
import { createTestSchema, describeWithInfra, KAFKA_BROKERS, TEST_DATABASE_URL, uniqueName, waitFor, type TestSchema } from '@jamey/data/testing';
import {
  AccessOutcome,
  catalog,
  createKafkaTransport,
  decodeEnvelope,
  topicFor,
  type AccessRecord,
  type EventTransport,
  type Subscription,
} from '@jamey/events';
import { withTopicSuffix } from '@jamey/events/testing';
import { createLogger } from '@jamey/telemetry';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { startGateway, type RunningGateway } from './service.js';
import { startFakeDownstreams, type FakeDownstreams } from './testing/fake-downstreams.js';
import { bearer, testAuthEnv } from './testing/test-tokens.js';

const silent = createLogger({ service: 'gateway', level: 'silent' });
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

describeWithInfra([TEST_DATABASE_URL, KAFKA_BROKERS], 'access records on PostgreSQL and Kafka', (env) => {
  const databaseUrl = env['JAMEY_TEST_DATABASE_URL']!;
  let fakes: FakeDownstreams;
  let schema: TestSchema;
  let transport: EventTransport;
  let subscription: Subscription;
  const received: { subject: string; type: string; source: string; data: AccessRecord }[] = [];

  beforeAll(async () => {
    fakes = await startFakeDownstreams();
    schema = await createTestSchema(databaseUrl, 'gateway_access');
    const kafka = createKafkaTransport({ brokers: env[KAFKA_BROKERS]!.split(','), clientId: uniqueName('gateway_test'), logger: silent });
    transport = withTopicSuffix(kafka, uniqueName('access'));
    await transport.ensureTopics([topicFor('gateway')]);
    subscription = await transport.subscribe({
      groupId: uniqueName('access_reader'),
      topics: [topicFor('gateway')],
      fromBeginning: true,
      handler: async (message) => {
        const envelope = decodeEnvelope(message.value);
        received.push({ subject: envelope.subject, type: envelope.type, source: envelope.source, data: catalog['gateway.request_completed'].schema.decode(envelope.data) });
      },
    });
  }, 60_000);
  afterAll(async () => {
    await subscription?.stop();
    await transport?.close();
    await schema?.drop();
    await fakes?.close();
  });

  async function start(extra: Record<string, string>, options: { refusalBudget?: { burst: number; perSecond: number } } = {}): Promise<RunningGateway> {
    const config = loadGatewayConfig({
      ...(await testAuthEnv()),
      JAMEY_BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      GATEWAY_ADMIN_PORT: '0',
      GATEWAY_DATABASE_URL: schema.url,
      ...Object.fromEntries(Object.entries(fakes.addresses).map(([name, address]) => [`${name.toUpperCase()}_ADDRESS`, address])),
      ...extra,
    });
    return startGateway({ config, logger: silent, transport, mode: 'infrastructure', ...options });
  }

  it('publishes one record per request, allowed, 401, 403 and 429, and folds a flood of refusals', async () => {
    // Three requests per client and window; three refusals recorded one by one, then folded.
    const gateway = await start({ JAMEY_RATE_LIMIT_MAX: '3' }, { refusalBudget: { burst: 3, perSecond: 0.001 } });
    const url = (path: string) => `http://127.0.0.1:${gateway.port}${path}`;
    const headers = (auth: Record<string, string> = {}) => ({ ...auth, 'user-agent': 'access-test/1', traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` });
    try {
      const alice = await bearer({ subject: 'alice', scopes: ['memory:read'] });
      expect((await fetch(url('/v1/memories?query=x'), { headers: headers(alice) })).status).toBe(200);
      expect((await fetch(url('/v1/memories?query=x'), { headers: headers() })).status).toBe(401);
      expect((await fetch(url('/v1/consciousness/state'), { headers: headers(alice) })).status).toBe(403);
      expect((await fetch(url('/v1/memories?query=y'), { headers: headers(alice) })).status).toBe(200);
      expect((await fetch(url('/v1/memories?query=z'), { headers: headers(alice) })).status).toBe(429);
      // Over the budget: five anonymous requests (two more 401s, then 429s: the address's limit).
      const flood = [];
      for (let i = 0; i < 5; i += 1) flood.push((await fetch(url('/v1/memories'), { headers: headers() })).status);
      expect(flood).toEqual([401, 401, 429, 429, 429]);
      const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
      expect(metrics).toMatch(/jamey_security_refusals_folded_total\{[^}]*\} 5/);
      expect(metrics).toMatch(/jamey_security_refusals_total\{[^}]*outcome="unauthenticated",reason="missing"[^}]*\} 3/);
      const readiness = (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/readyz`)).json()) as { checks: { name: string; ok: boolean }[] };
      expect(readiness.checks.find((check) => check.name === 'database')).toMatchObject({ ok: true });
    } finally {
      // Stopping writes the summaries and drains the relay.
      await gateway.stop();
    }
    await waitFor(() => received.length >= 7, { timeoutMs: 30_000, message: 'seven access records on Kafka' });
    expect(received.every((r) => r.type === 'gateway.request_completed' && r.source === 'gateway')).toBe(true);
    const singles = received.filter((r) => r.data.count === 0);
    const common = { ip: '127.0.0.1', userAgent: 'access-test/1', traceId: TRACE_ID };
    // Kafka keeps order per key (the actor): compare each actor's records in order.
    const of = (subject: string) => singles.filter((r) => r.subject === subject).map((r) => r.data);
    expect(of('anonymous')).toEqual([
      expect.objectContaining({ actor: '', action: 'GET /v1/memories', resource: '/v1/memories', outcome: AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED, status: 401, reason: 'missing', ...common }),
    ]);
    expect(of('alice')).toEqual([
      expect.objectContaining({ actor: 'alice', action: 'GET /v1/memories', resource: '/v1/memories', outcome: AccessOutcome.ACCESS_OUTCOME_ALLOWED, status: 200, reason: '', ...common }),
      expect.objectContaining({
        actor: 'alice',
        action: 'GET /v1/consciousness/state',
        resource: '/v1/consciousness/state',
        outcome: AccessOutcome.ACCESS_OUTCOME_DENIED,
        status: 403,
        reason: 'insufficient_scope',
        missingScopes: ['consciousness:read'],
        ...common,
      }),
      expect.objectContaining({ actor: 'alice', outcome: AccessOutcome.ACCESS_OUTCOME_ALLOWED, status: 200, ...common }),
      expect.objectContaining({ actor: 'alice', outcome: AccessOutcome.ACCESS_OUTCOME_THROTTLED, status: 429, reason: 'rate_limited', ...common }),
    ]);
    expect(singles).toHaveLength(5);
    const summaries = received.filter((r) => r.data.count > 0).map((r) => [r.data.outcome, r.data.reason, r.data.count, r.data.ip, r.data.traceId]);
    expect(summaries.sort()).toEqual(
      [
        [AccessOutcome.ACCESS_OUTCOME_UNAUTHENTICATED, 'missing', 2, '', ''],
        [AccessOutcome.ACCESS_OUTCOME_THROTTLED, 'rate_limited', 3, '', ''],
      ].sort(),
    );
  }, 60_000);

  it('answers while its database is down, counting the records it could not write', async () => {
    const proxy: TcpProxy = await startTcpProxy(new URL(schema.url).host);
    const through = new URL(schema.url);
    through.host = `127.0.0.1:${proxy.port}`;
    const gateway = await start({ GATEWAY_DATABASE_URL: through.toString() });
    const url = `http://127.0.0.1:${gateway.port}/v1/memories?query=x`;
    const failed = async () => Number(/jamey_gateway_access_records_failed_total\{[^}]*\} (\d+)/.exec(await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text())?.[1] ?? 0);
    try {
      const auth = await bearer({ subject: 'bob', scopes: ['memory:read'] });
      expect((await fetch(url, { headers: auth })).status).toBe(200);
      expect(await failed()).toBe(0);
      await proxy.cut();
      for (let i = 0; i < 3; i += 1) expect((await fetch(url, { headers: auth })).status).toBe(200);
      expect(await failed()).toBe(3);
      const readiness = (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/readyz`)).json()) as { status: string; checks: { name: string; ok: boolean; required: boolean }[] };
      expect(readiness.checks.find((check) => check.name === 'database')).toMatchObject({ ok: false, required: false });
      await proxy.restore();
    } finally {
      await gateway.stop();
      await proxy.close();
    }
  }, 60_000);
});
