import { expect } from 'vitest';
import {
  highCardinalityLabels,
  missingMetricFamilies,
  requiredMetricFamilies,
  scrapeMetrics,
  type RequiredFamily,
  type ServiceRoles,
} from '@jamey/telemetry/testing';
import { downstreamsOf, EVENT_FLOWS, eventSubscriptions, type ServiceName } from '@jamey/topology';
import type { GrpcService, JameySystem } from './system.js';

const SERVICES: readonly (GrpcService | 'gateway')[] = ['gateway', 'memory', 'consciousness', 'soul', 'audit', 'telemetry'];

/** What each service does, from the topology: it decides the families the service owes. */
export function rolesOf(name: ServiceName): ServiceRoles {
  // The gateway publishes its access records through its own outbox (issue 5).
  if (name === 'gateway') return { http: true, rpcClient: true, database: true, producer: true };
  return {
    rpcServer: true,
    database: true,
    rpcClient: downstreamsOf(name).length > 0,
    producer: name in EVENT_FLOWS,
    consumer: name in eventSubscriptions(),
  };
}

/**
 * After the journey: every service's `/metrics` parses with Prometheus's own parser, carries
 * every family it owes (with samples where the journey made traffic), and no label value looks
 * like an id. Telemetry publishes only when an alert changes, so its produced-messages family
 * need only be declared.
 */
export async function runMetricsCheck(system: JameySystem): Promise<void> {
  const problems: string[] = [];
  for (const name of SERVICES) {
    const families = await scrapeMetrics(`${system.adminUrl(name)}/metrics`);
    const required: RequiredFamily[] = requiredMetricFamilies(rolesOf(name), { traffic: true }).map((family) =>
      name === 'telemetry' && family.name === 'jamey_kafka_messages_produced_total' ? { ...family, withSamples: false } : family,
    );
    problems.push(...missingMetricFamilies(families, required).map((problem) => `${name}: ${problem}`));
    problems.push(...highCardinalityLabels(families).map((problem) => `${name}: ${problem}`));
  }
  expect(problems, problems.join('\n')).toEqual([]);
}
