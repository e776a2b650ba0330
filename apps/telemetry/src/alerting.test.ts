import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@jamey/core';
import { describeOnEachDatabase, type TestDatabase } from '@jamey/data/testing';
import { createEventLog, type EventLog } from '@jamey/events/testing';
import type { EventTransport } from '@jamey/events';
import { telemetry as pb } from '@jamey/proto';
import { createRpcClient } from '@jamey/rpc';
import { expectRpcError } from '@jamey/rpc/testing';
import { createHealth, createLogger, createMetricsRegistry, startAdminServer, type AdminServer } from '@jamey/telemetry';
import { Gauge } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAlertRules } from './adapters/rules-file.js';
import { startTelemetryService, type RunningTelemetryService } from './service.js';

const logger = createLogger({ service: 'telemetry-alerting-test', level: 'silent' });

// The shipped rules' shapes with `for: 0s`, so each round decides at once.
const RULES = parseAlertRules(
  `rules:
  - alert: BreakerOpen
    kind: breaker_open
    severity: critical
    for: 0s
    summary: "{{ $labels.service }} stopped calling {{ $labels.dependency }}"
    description: d
  - alert: NotReady
    kind: service_not_ready
    severity: critical
    for: 0s
    summary: "{{ $labels.service }} is not ready"
    description: d
`,
  'test rules',
);

describeOnEachDatabase('telemetry alerting, end to end in-process', 'TELEMETRY_DATABASE_URL', (createDatabase) => {
  let test: TestDatabase;
  let gateway: AdminServer;
  let breakerOpen = true;
  let transport: EventTransport;
  let log: EventLog<'telemetry'>;
  let running: RunningTelemetryService | undefined;
  let hook: Server;
  const hookBodies: { status: string; alerts: { labels: Record<string, string> }[] }[] = [];
  let client: ReturnType<typeof createRpcClient<typeof pb.TelemetryServiceService>>;

  beforeAll(async () => {
    test = await createDatabase();
    // A gateway stand-in: its admin server exports a breaker for memory, open or closed.
    const registry = createMetricsRegistry('gateway');
    new Gauge({
      name: 'jamey_circuit_breaker_state',
      help: 'state',
      labelNames: ['dependency', 'state'],
      registers: [registry],
      collect() {
        for (const state of ['closed', 'open']) this.set({ dependency: 'memory', state }, (state === 'open') === breakerOpen ? 1 : 0);
      },
    });
    new Gauge({ name: 'jamey_degradation_level', help: 'level', labelNames: ['dependency'], registers: [registry], collect() { this.set({ dependency: 'memory' }, breakerOpen ? 3 : 0); } });
    gateway = await startAdminServer({ host: '127.0.0.1', port: 0, health: createHealth(systemClock), metrics: registry, logger });
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hookBodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    ({ transport, log } = await createEventLog({ source: 'telemetry' }));
    running = await startTelemetryService({
      settings: { name: 'telemetry', host: '127.0.0.1', port: 0, adminPort: 0, databaseUrl: test.url, databasePoolSize: 2, logLevel: 'silent', shutdownGraceMs: 1000 },
      transport,
      logger,
      autoPoll: false,
      checkTimeoutMs: 1000,
      scrapeTimeoutMs: 1000,
      alertRules: RULES,
      alertWebhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      targets: {
        // Only the gateway is configured to answer; the gRPC services' addresses lead nowhere.
        grpc: { memory: '127.0.0.1:1', consciousness: '127.0.0.1:1', soul: '127.0.0.1:1', audit: '127.0.0.1:1' },
        gatewayAdminUrl: `http://127.0.0.1:${gateway.port}`,
        adminUrls: { memory: 'http://127.0.0.1:1' },
      },
    });
    client = createRpcClient(pb.TelemetryServiceService, { dependency: 'telemetry', address: `127.0.0.1:${running.port}`, clock: systemClock });
  });

  afterAll(async () => {
    client?.close();
    await running?.stop();
    await log?.close();
    await gateway?.close();
    hook?.closeAllConnections();
    await new Promise((resolve) => hook?.close(resolve));
    await test?.cleanup();
  });

  it("reads each service's dependencies from its /metrics into GetSystemHealth", async () => {
    await running!.pollOnce();
    const health = await client.getSystemHealth({});
    const byService = Object.fromEntries(health.services.map((s) => [s.service, s]));
    expect(byService['gateway']!.dependencies).toEqual([
      { name: 'memory', level: pb.DegradationLevel.DEGRADATION_LEVEL_OFFLINE, circuit: pb.CircuitState.CIRCUIT_STATE_OPEN },
    ]);
    expect(byService['gateway']!.metricsTime).toBeInstanceOf(Date);
    expect(byService['gateway']!.metricsDetail).toBe('');
    expect(byService['memory']!.metricsTime).toBeUndefined();
    expect(byService['memory']!.metricsDetail).toMatch(/fetch failed/);
    // Telemetry's own registry is read in-process: its postgres dependency is there.
    expect(byService['telemetry']!.dependencies.map((d) => d.name)).toContain('postgres');
  });

  it('fires deduplicated alerts, publishes them through the outbox, lists them and posts them to the webhook', async () => {
    const firing = await client.listAlerts({ states: [], pageSize: 0 });
    const summaries = firing.alerts.map((a) => a.summary).sort();
    expect(summaries).toEqual(['gateway stopped calling memory', 'memory is not ready']);
    const breaker = firing.alerts.find((a) => a.rule === 'BreakerOpen')!;
    expect(breaker).toMatchObject({ state: pb.AlertState.ALERT_STATE_FIRING, severity: pb.AlertSeverity.ALERT_SEVERITY_CRITICAL, labels: { service: 'gateway', dependency: 'memory' }, value: 1 });
    expect((await log.next('telemetry.alert_fired', breaker.fingerprint)).alert).toMatchObject({ id: breaker.id, rule: 'BreakerOpen' });

    // Another round with the condition still holding: no second alert, no second event.
    await running!.pollOnce();
    expect((await client.listAlerts({ states: [], pageSize: 0 })).alerts).toHaveLength(2);
    expect(await running!.deliverAlertsOnce()).toBe(2);
    expect(hookBodies.map((b) => [b.status, b.alerts[0]!.labels['alertname']]).sort()).toEqual([
      ['firing', 'BreakerOpen'],
      ['firing', 'NotReady'],
    ]);
    expect(log.pending('telemetry.alert_fired', breaker.fingerprint)).toBe(0);
  });

  it('resolves an alert once its condition stops holding', async () => {
    breakerOpen = false;
    await running!.pollOnce();
    const breaker = (await client.listAlerts({ states: [pb.AlertState.ALERT_STATE_RESOLVED], pageSize: 10 })).alerts;
    expect(breaker.map((a) => [a.rule, a.state])).toEqual([['BreakerOpen', pb.AlertState.ALERT_STATE_RESOLVED]]);
    expect(breaker[0]!.resolveTime).toBeInstanceOf(Date);
    expect((await log.next('telemetry.alert_resolved', breaker[0]!.fingerprint)).alert).toMatchObject({ state: pb.AlertState.ALERT_STATE_RESOLVED });
    expect((await client.listAlerts({ states: [], pageSize: 0 })).alerts.map((a) => a.rule)).toEqual(['NotReady']);
    expect(await running!.deliverAlertsOnce()).toBe(1);
    expect(hookBodies.at(-1)).toMatchObject({ status: 'resolved' });
  });

  it('answers history queries and rejects bad arguments', async () => {
    const history = await client.getMetricHistory({ services: [], metrics: [], startTime: new Date(Date.now() - 3_600_000), endTime: new Date(Date.now() + 60_000) });
    expect(history.intervalMs).toBe(60_000);
    await expectRpcError(client.listAlerts({ states: [pb.AlertState.ALERT_STATE_UNSPECIFIED], pageSize: 0 }), 'INVALID_ARGUMENT');
    await expectRpcError(client.getMetricHistory({ services: ['Not A Service'], metrics: [] }), 'INVALID_ARGUMENT');
    await expectRpcError(client.getMetricHistory({ services: [], metrics: [], startTime: new Date(2000), endTime: new Date(1000) }), 'INVALID_ARGUMENT');
  });
});
