import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { silentLogger } from '@jamey/data';
import { waitFor } from '@jamey/data/testing';
import { createKafkaTransport } from '@jamey/events';
import { REPO_ROOT } from './processes.js';
import type { JameySystem } from './system.js';

/**
 * The shipped rules file (apps/telemetry/alert-rules.yaml) with every `for` set to 0s and every
 * window to 1m, so the test sees alerts fire within a polling round or two instead of minutes.
 * The rules themselves (kinds, thresholds, labels) are the real ones. Returns the file's path,
 * for `TELEMETRY_ALERT_RULES_FILE`.
 */
export function fastAlertRulesFile(): string {
  const text = readFileSync(join(REPO_ROOT, 'apps/telemetry/alert-rules.yaml'), 'utf8')
    .replace(/^(\s+)for: \S+$/gm, '$1for: 0s')
    .replace(/^(\s+)window: \S+$/gm, '$1window: 1m');
  const file = join(mkdtempSync(join(tmpdir(), 'jamey-alert-rules-')), 'alert-rules.yaml');
  writeFileSync(file, text);
  return file;
}

interface AlertEvent {
  type: string;
  time: string;
  rule: string;
  labels: Record<string, string>;
  fingerprint: string;
}

/** Every telemetry alert event audit has stored since `since`, oldest first. */
async function auditedAlerts(system: JameySystem, since: string): Promise<AlertEvent[]> {
  const events: AlertEvent[] = [];
  for (const type of ['telemetry.alert_fired', 'telemetry.alert_resolved']) {
    let pageToken = '';
    do {
      const query = new URLSearchParams({ type, startTime: since, pageSize: '500' });
      if (pageToken) query.set('pageToken', pageToken);
      const response = await fetch(`${system.gatewayUrl}/v1/audit/records?${query}`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(10_000) });
      expect(response.status).toBe(200);
      const page = (await response.json()) as {
        items?: { type: string; eventTime: string; data?: { alert?: { rule: string; labels?: Record<string, string>; fingerprint: string } } }[];
        nextPageToken?: string;
      };
      for (const item of page.items ?? []) {
        const alert = item.data?.alert;
        if (alert) events.push({ type: item.type, time: item.eventTime, rule: alert.rule, labels: alert.labels ?? {}, fingerprint: alert.fingerprint });
      }
      pageToken = page.nextPageToken ?? '';
    } while (pageToken);
  }
  return events.sort((a, b) => a.time.localeCompare(b.time));
}

const matching = (events: AlertEvent[], rule: string, labels: Record<string, string>): AlertEvent[] =>
  events.filter((e) => e.rule === rule && Object.entries(labels).every(([k, v]) => e.labels[k] === v));

/** The latest event of one alert says it fired (true), resolved (false), or there is none (undefined). */
const firing = (events: AlertEvent[], rule: string, labels: Record<string, string>): boolean | undefined => {
  const last = matching(events, rule, labels).at(-1);
  return last === undefined ? undefined : last.type === 'telemetry.alert_fired';
};

interface Dependency {
  name: string;
  circuit: string;
}

/** The gateway's dependencies as telemetry last scraped them (GET /v1/system/health). */
async function gatewayDependencies(system: JameySystem): Promise<Dependency[]> {
  const response = await fetch(`${system.gatewayUrl}/v1/system/health`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { services?: { service: string; dependencies?: Dependency[] }[] };
  return body.services?.find((s) => s.service === 'gateway')?.dependencies ?? [];
}

/**
 * Causes alert conditions for real on the six-process system and follows them through telemetry
 * (which scrapes every /metrics and evaluates alert-rules.yaml), its outbox, Kafka and audit:
 * 1. SIGKILL memory under load: JameyServiceNotReady{service=memory} and
 *    JameyCircuitBreakerOpen{service=gateway,dependency=memory} fire, and telemetry's view of the
 *    gateway shows its memory breaker open;
 * 2. restart memory: both resolve;
 * 3. publish a message that is not an event onto a topic audit consumes: audit dead-letters it
 *    and JameyDeadLetters{service=audit,topic=jamey.memory.events.v1} fires.
 */
export async function runAlertScenario(system: JameySystem, kafkaBrokers: string): Promise<void> {
  const since = new Date(Date.now() - 1000).toISOString();
  let running = true;
  // Steady searches through the gateway, so its breaker for memory has calls to judge.
  const load = (async () => {
    for (let i = 0; running && i < 100_000; i += 1) {
      await fetch(`${system.gatewayUrl}/v1/memories?query=alerts`, { headers: { authorization: system.authorization }, signal: AbortSignal.timeout(10_000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50)); // pacing of the load, not a wait for a result
    }
  })();
  const notReady = { service: 'memory' };
  const breaker = { service: 'gateway', dependency: 'memory' };
  // Set while memory is down, so a failure on the way still brings it back for the next test.
  let killed = false;
  try {
    await system.killService('memory');
    killed = true;
    let sawOpen = false;
    await waitFor(
      async () => {
        if (!sawOpen) sawOpen = (await gatewayDependencies(system)).some((d) => d.name === 'memory' && d.circuit === 'open');
        const events = await auditedAlerts(system, since);
        return sawOpen && firing(events, 'JameyServiceNotReady', notReady) === true && matching(events, 'JameyCircuitBreakerOpen', breaker).some((e) => e.type === 'telemetry.alert_fired');
      },
      { timeoutMs: 90_000, intervalMs: 500, message: 'telemetry to report the open breaker and audit to hold the fired alerts' },
    );

    await system.restartService('memory');
    killed = false;
    await waitFor(
      async () => {
        const events = await auditedAlerts(system, since);
        return firing(events, 'JameyServiceNotReady', notReady) === false && firing(events, 'JameyCircuitBreakerOpen', breaker) === false;
      },
      { timeoutMs: 90_000, intervalMs: 500, message: 'the alerts to resolve in audit after memory came back' },
    );
    const events = await auditedAlerts(system, since);
    // One alert per rule and labels: every event of one alert carries the same fingerprint.
    expect(new Set(matching(events, 'JameyServiceNotReady', notReady).map((e) => e.fingerprint)).size).toBe(1);
  } finally {
    running = false;
    await load;
    if (killed) await system.restartService('memory');
  }

  // Poison a topic audit consumes.
  const transport = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: 'e2e-poison', logger: silentLogger });
  try {
    await transport.send('jamey.memory.events.v1', [{ key: 'e2e-poison', value: Buffer.from('this is not an event envelope'), headers: {} }]);
  } finally {
    await transport.close();
  }
  await waitFor(
    async () => firing(await auditedAlerts(system, since), 'JameyDeadLetters', { service: 'audit', topic: 'jamey.memory.events.v1' }) === true,
    { timeoutMs: 90_000, intervalMs: 500, message: 'JameyDeadLetters to fire for the poisoned topic and reach audit' },
  );
}
