import { waitFor } from '@jamey/data/testing';
import { scrapeMetrics } from '@jamey/telemetry/testing';
import { expect } from 'vitest';
import { callGateway } from './scenario.js';
import type { JameySystem } from './system.js';

interface Integration {
  defined: boolean;
  phiBits: number;
  elements: string[];
  partitionA: string[];
  partitionB: string[];
  samplePairs: number;
  version: number;
}

/**
 * Φ end to end: perceptions from two sources, where `speech` echoes the salience `vision` had a
 * turn before, go through the gateway into consciousness's event store. Then Φ is defined and
 * positive at `GET /v1/consciousness/integration`, over both sources, and consciousness exports
 * the same value as `jamey_consciousness_phi_bits`, which telemetry scrapes for the status page.
 */
export async function runPhiFlow(system: JameySystem): Promise<void> {
  let previous = 0.5;
  for (let turn = 0; turn < 40; turn += 1) {
    const vision = ((turn * 37) % 100) / 100;
    for (const [source, salience] of [
      ['vision', vision],
      ['speech', previous],
    ] as const) {
      const { status } = await callGateway(system, 'POST', '/v1/perceptions', { input: `${source} ${turn}`, source, salience });
      expect(status).toBe(201);
    }
    previous = vision;
  }
  const { status, body } = await callGateway(system, 'GET', '/v1/consciousness/integration');
  expect(status).toBe(200);
  const integration = body as unknown as Integration;
  expect(integration).toMatchObject({ defined: true });
  expect(integration.phiBits).toBeGreaterThan(0);
  expect(integration.elements).toEqual(expect.arrayContaining(['vision', 'speech']));
  expect([...integration.partitionA, ...integration.partitionB].sort()).toEqual([...integration.elements].sort());

  // The gauge follows within CONSCIOUSNESS_PHI_INTERVAL_MS (10 s); later perceptions (none here)
  // would move both.
  let exported: number | undefined;
  await waitFor(
    async () => {
      const families = await scrapeMetrics(`${system.adminUrl('consciousness')}/metrics`);
      exported = families.get('jamey_consciousness_phi_bits')?.samples.find((s) => s.labels['stream'] === 'workspace')?.value;
      return exported !== undefined && Math.abs(exported - integration.phiBits) < 1e-9;
    },
    { timeoutMs: 30_000, intervalMs: 500, message: `jamey_consciousness_phi_bits to equal the API's ${integration.phiBits}` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last exported ${String(exported)}`);
  });
}
