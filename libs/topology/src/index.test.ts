import { describe, expect, it } from 'vitest';
import { CALL_GRAPH, DEFAULT_PORTS, SERVICE_NAMES, callersOf, downstreamsOf } from './index.js';

describe('call graph', () => {
  it('is acyclic', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (node: string): void => {
      expect(visiting.has(node), `cycle through ${node}`).toBe(false);
      if (done.has(node)) return;
      visiting.add(node);
      for (const edge of CALL_GRAPH.filter((e) => e.from === node)) visit(edge.to);
      visiting.delete(node);
      done.add(node);
    };
    for (const name of SERVICE_NAMES) visit(name);
  });

  it('lets the gateway reach every gRPC service and nothing call the gateway', () => {
    expect(downstreamsOf('gateway').sort()).toEqual(['audit', 'consciousness', 'memory', 'soul', 'telemetry']);
    expect(CALL_GRAPH.some((edge) => (edge.to as string) === 'gateway')).toBe(false);
    expect(callersOf('memory').sort()).toEqual(['consciousness', 'gateway']);
  });

  it('gives every service distinct ports', () => {
    const ports = Object.values(DEFAULT_PORTS).flatMap((p) => [p.main, p.admin]);
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe('eventSubscriptions', () => {
  it('lists the topics each consumer group reads', async () => {
    const { eventSubscriptions } = await import('./index.js');
    expect(eventSubscriptions()).toEqual({
      audit: ['jamey.consciousness.events.v1', 'jamey.memory.events.v1', 'jamey.soul.events.v1'],
    });
  });
});
