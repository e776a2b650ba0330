/**
 * Security monitoring, caused for real: telemetry runs with service-token authentication (the
 * service kit's interceptor, as in production), a burst of calls with a forged token and a burst
 * from a service the call graph does not allow reach its gRPC port, and the shipped
 * JameyAuthFailureBurst and JameyScopeDeniedSpike rules (their signals and grouping; only the
 * window, threshold and `for` shortened) fire from telemetry's own `jamey_security_refusals_total`
 * and resolve once the burst has left the window. Who did it is in the access events the
 * refusals wrote, not in the alert.
 */
import { isJameyError, systemClock } from '@jamey/core';
import { describeOnEachDatabase, waitFor, type TestDatabase } from '@jamey/data/testing';
import { createEventLog, type EventLog } from '@jamey/events/testing';
import type { EventTransport } from '@jamey/events';
import { telemetry as pb } from '@jamey/proto';
import { createRpcClient } from '@jamey/rpc';
import { loadServiceAuth } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { generateServiceKeyring } from '@jamey/security';
import type { ServiceName } from '@jamey/topology';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadAlertRules } from './adapters/rules-file.js';
import type { AlertRule } from './domain/alerts/rules.js';
import { startTelemetryService, type RunningTelemetryService } from './service.js';

const logger = createLogger({ service: 'telemetry-security-alerting-test', level: 'silent' });

const WINDOW_MS = 10_000;
/** Refusals per second over the window above which the test's rules fire: 10 in 10 s. */
const THRESHOLD = 1;
const BURST = 30;

/** The shipped security rules, with a 10 s window, 1/s and `for: 0s`, so a test can cross and leave them. */
const RULES: readonly AlertRule[] = loadAlertRules()
  .filter((rule) => rule.alert === 'JameyAuthFailureBurst' || rule.alert === 'JameyScopeDeniedSpike')
  .map((rule) => ({ ...rule, windowMs: WINDOW_MS, threshold: THRESHOLD, forMs: 0 }));

/** Each service's auth from its variables, with keys as `npm run service-key` makes them (generateServiceKey). */
async function serviceKeys(services: readonly ServiceName[]) {
  const ring = await generateServiceKeyring(services);
  const publicKeys = JSON.stringify(ring.publicJwks);
  return (service: ServiceName) =>
    loadServiceAuth(service, { JAMEY_SERVICE_SIGNING_KEY: JSON.stringify(ring.privateJwks[service]), JAMEY_SERVICE_PUBLIC_KEYS: publicKeys }, logger);
}

const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isJameyError(error)) throw new Error(`expected a JameyError, got ${String(error)}`);
  return error.code;
};

describeOnEachDatabase('telemetry security alerts, caused for real', 'TELEMETRY_DATABASE_URL', (createDatabase) => {
  let test: TestDatabase;
  let transport: EventTransport;
  let log: EventLog<'telemetry'>;
  let running: RunningTelemetryService | undefined;
  let authOf: Awaited<ReturnType<typeof serviceKeys>>;
  const clients: { close(): void }[] = [];

  /** A TelemetryService client sending `token`, or tokens minted by `caller`. */
  const clientAs = async (as: ServiceName | { token: string }) => {
    const serviceToken =
      typeof as === 'string' ? await authOf(as).then(({ minter }) => (sub?: string) => minter!.mint('telemetry', sub)) : () => Promise.resolve(as.token);
    const client = createRpcClient(pb.TelemetryServiceService, { dependency: 'telemetry', address: `127.0.0.1:${running!.port}`, clock: systemClock, serviceToken });
    clients.push(client);
    return client;
  };
  let reader: Awaited<ReturnType<typeof clientAs>>;
  const alerts = async (states: pb.AlertState[] = []) => (await reader.listAlerts({ states, pageSize: 100 })).alerts;

  beforeAll(async () => {
    test = await createDatabase();
    authOf = await serviceKeys(['gateway', 'memory', 'telemetry']);
    ({ transport, log } = await createEventLog({ source: 'telemetry' }));
    running = await startTelemetryService({
      settings: { name: 'telemetry', host: '127.0.0.1', port: 0, adminPort: 0, databaseUrl: test.url, databasePoolSize: 2, logLevel: 'silent', shutdownGraceMs: 1000 },
      transport,
      logger,
      serviceAuth: await authOf('telemetry'),
      autoPoll: false,
      checkTimeoutMs: 500,
      scrapeTimeoutMs: 500,
      alertRules: RULES,
      // Only telemetry's own registry answers: the refusing service under test is telemetry itself.
      targets: { grpc: { memory: '127.0.0.1:1', consciousness: '127.0.0.1:1', soul: '127.0.0.1:1', audit: '127.0.0.1:1' }, gatewayAdminUrl: 'http://127.0.0.1:1' },
    });
    // The gateway is the one service allowed to call telemetry.
    reader = await clientAs('gateway');
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await running?.stop();
    await log?.close();
    await test?.cleanup();
  });

  it('stays quiet under a few refusals: below the threshold', async () => {
    await running!.pollOnce();
    const forged = await clientAs({ token: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' });
    for (let i = 0; i < 3; i++) expect(await codeOf(forged.listAlerts({ states: [], pageSize: 1 }))).toBe('UNAUTHENTICATED');
    await running!.pollOnce();
    // 3 in the window is 0.3/s, under 1/s.
    expect(await alerts()).toEqual([]);
  }, 30_000);

  it('fires JameyAuthFailureBurst and JameyScopeDeniedSpike for the refusing service when bursts of bad calls arrive', async () => {
    const forged = await clientAs({ token: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' });
    // A valid token, but memory may not call telemetry: denied, not unauthenticated.
    const memory = await clientAs('memory');
    // A round right before the burst, so the window holds the counters' values before it.
    await running!.pollOnce();
    const codes = await Promise.all([
      ...Array.from({ length: BURST }, () => codeOf(forged.listAlerts({ states: [], pageSize: 1 }))),
      ...Array.from({ length: BURST }, () => codeOf(memory.listAlerts({ states: [], pageSize: 1 }))),
    ]);
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(BURST);
    expect(codes.filter((c) => c === 'PERMISSION_DENIED')).toHaveLength(BURST);
    await running!.pollOnce();

    const firing = await alerts();
    expect(firing.map((a) => [a.rule, a.state, a.labels]).sort()).toEqual([
      ['JameyAuthFailureBurst', pb.AlertState.ALERT_STATE_FIRING, { service: 'telemetry' }],
      ['JameyScopeDeniedSpike', pb.AlertState.ALERT_STATE_FIRING, { service: 'telemetry' }],
    ]);
    // At least this burst (3 earlier refusals may still be in the window), per second of the window.
    for (const alert of firing) expect(alert.value).toBeGreaterThanOrEqual(BURST / (WINDOW_MS / 1000));
    const auth = firing.find((a) => a.rule === 'JameyAuthFailureBurst')!;
    expect(auth.summary).toMatch(/^telemetry refuses [\d.]+\/s calls for bad or missing credentials$/);
    expect((await log.next('telemetry.alert_fired', auth.fingerprint)).alert).toMatchObject({ id: auth.id, rule: 'JameyAuthFailureBurst' });

    // The alert says which service; the access events (which audit stores) say who. Past the
    // refusal budget they fold into a summary record, written within its 10 s interval.
    const denied = await log.next('telemetry.call_denied', 'memory', 20_000);
    expect(denied).toMatchObject({ actor: 'memory', callerService: 'memory', reason: 'caller_not_allowed' });
  }, 30_000);

  it('resolves both once the burst has left the window', async () => {
    const firing = await alerts();
    expect(firing).toHaveLength(2);
    // Rounds keep scraping until the window no longer holds the burst (10 s after it).
    await waitFor(
      async () => {
        await running!.pollOnce();
        return (await alerts()).length === 0;
      },
      { timeoutMs: WINDOW_MS + 15_000, intervalMs: 500, message: 'both security alerts to resolve' },
    );
    const resolved = await alerts([pb.AlertState.ALERT_STATE_RESOLVED]);
    expect(resolved.map((a) => a.rule).sort()).toEqual(['JameyAuthFailureBurst', 'JameyScopeDeniedSpike']);
    for (const alert of firing) {
      expect((await log.next('telemetry.alert_resolved', alert.fingerprint)).alert).toMatchObject({ id: alert.id, state: pb.AlertState.ALERT_STATE_RESOLVED });
    }
  }, 40_000);
});
