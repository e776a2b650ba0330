import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createIdGenerator, createManualClock, createSeededRandom } from '@jamey/core';
import { SERVICE_NAMES } from '@jamey/topology';
import { describe, expect, it } from 'vitest';
import { loadAlertRules } from '../../adapters/rules-file.js';
import { evaluate, toPromQL } from '../metrics/expr.js';
import { createSampleWindow } from '../metrics/samples.js';
import { createAlertEngine, type AlertStore } from './engine.js';
import { prometheusRuleGroups } from './prometheus-rule.js';

/** The chart's copy of the rules (helm/jamey/files/alert-rules.json), as Prometheus will get them. */
const chartFile = fileURLToPath(new URL('../../../../../helm/jamey/files/alert-rules.json', import.meta.url));
const chart = JSON.parse(readFileSync(chartFile, 'utf8')) as ReturnType<typeof prometheusRuleGroups> extends infer G ? { groups: G } : never;

const noStore: AlertStore = { active: async () => [], apply: async (c) => c, list: async () => [] };

describe("the chart's PrometheusRule and telemetry's own evaluation", () => {
  it('come from the same entries of alert-rules.yaml: every rule, its PromQL is the text of the condition telemetry evaluates', () => {
    const rules = loadAlertRules();
    const clock = createManualClock();
    const engine = createAlertEngine({ rules, services: SERVICE_NAMES, window: createSampleWindow({ retentionMs: 1, staleAfterMs: 1 }), store: noStore, clock, ids: createIdGenerator(clock, createSeededRandom(1)) });
    const rendered = chart.groups.flatMap((g) => g.rules);
    expect(rendered.map((r) => r.alert)).toEqual(rules.map((r) => r.alert));
    for (const rule of rules) {
      const entry = rendered.find((r) => r.alert === rule.alert)!;
      expect(entry.expr, rule.alert).toBe(toPromQL(engine.conditions.get(rule.alert)!));
      expect(entry.labels).toEqual({ severity: rule.severity });
      expect(entry.annotations['summary']).toBe(rule.summary);
    }
    expect(chart.groups).toEqual(prometheusRuleGroups(rules, SERVICE_NAMES));
  });

  it('and that condition fires on samples that break the rule and not on healthy ones', () => {
    const rules = loadAlertRules();
    const clock = createManualClock();
    const engine = createAlertEngine({ rules, services: SERVICE_NAMES, window: createSampleWindow({ retentionMs: 1, staleAfterMs: 1 }), store: noStore, clock, ids: createIdGenerator(clock, createSeededRandom(1)) });
    const window = createSampleWindow({ retentionMs: 3_600_000, staleAfterMs: 300_000 });
    const start = { name: 'process_start_time_seconds', labels: {}, value: 1 };
    const calls = (ok: number, failed: number) => [
      { name: 'rpc_server_call_duration_seconds_count', labels: { method: '/jamey.memory.v1.MemoryService/SearchMemories', code: 'OK' }, value: ok },
      { name: 'rpc_server_call_duration_seconds_count', labels: { method: '/jamey.memory.v1.MemoryService/SearchMemories', code: 'UNAVAILABLE' }, value: failed },
    ];
    const t0 = clock.now();
    window.record('memory', t0, [start, ...calls(0, 0)]);
    window.record('soul', t0, [start, ...calls(0, 0)]);
    window.record('memory', t0 + 300_000, [start, ...calls(900, 100)]); // 10% failed
    window.record('soul', t0 + 300_000, [start, ...calls(999, 1)]); // 0.1% failed
    const firing = evaluate(engine.conditions.get('JameyHighErrorRate')!, window, t0 + 300_000);
    expect(firing.map((p) => p.labels['service'])).toEqual(['memory']);
    expect(firing[0]!.value).toBeCloseTo(0.1);
  });

  it("and the security rules read services' refusals and the gateway's 401, 403 and 429 responses, per service", () => {
    const rules = loadAlertRules();
    const clock = createManualClock();
    const engine = createAlertEngine({ rules, services: SERVICE_NAMES, window: createSampleWindow({ retentionMs: 1, staleAfterMs: 1 }), store: noStore, clock, ids: createIdGenerator(clock, createSeededRandom(1)) });
    const window = createSampleWindow({ retentionMs: 3_600_000, staleAfterMs: 300_000 });
    const start = { name: 'process_start_time_seconds', labels: {}, value: 1 };
    const refused = (outcome: string, value: number) => ({ name: 'jamey_security_refusals_total', labels: { outcome, reason: 'malformed' }, value });
    const http = (status: number, value: number) => ({ name: 'http_server_request_duration_seconds_count', labels: { method: 'GET', route: '/v1/memories/:id', status_code: String(status) }, value });
    const t0 = clock.now();
    const fiveMinutes = t0 + 300_000;
    window.record('memory', t0, [start, refused('unauthenticated', 0), refused('denied', 0)]);
    window.record('soul', t0, [start, refused('unauthenticated', 0)]);
    window.record('gateway', t0, [start, http(200, 0), http(401, 0), http(403, 0), http(429, 0)]);
    // Memory: 60 forged service tokens in 5 minutes (0.2/s); soul: 10 (0.033/s, an expiring token).
    window.record('memory', fiveMinutes, [start, refused('unauthenticated', 60), refused('denied', 3)]);
    window.record('soul', fiveMinutes, [start, refused('unauthenticated', 10)]);
    // Gateway: 20 bad bearer tokens, 30 missing scopes, 600 over the rate limit, amid 10 000 answers.
    window.record('gateway', fiveMinutes, [start, http(200, 10_000), http(401, 20), http(403, 30), http(429, 600)]);
    const firing = (alert: string) =>
      Object.fromEntries(evaluate(engine.conditions.get(alert)!, window, fiveMinutes).map((p) => [p.labels['service'], Number(p.value.toFixed(3))]));
    expect(firing('JameyAuthFailureBurst')).toEqual({ memory: 0.2 });
    expect(firing('JameyScopeDeniedSpike')).toEqual({ gateway: 0.1 });
    expect(firing('JameyRateLimitStorm')).toEqual({ gateway: 2 });
  });
});
