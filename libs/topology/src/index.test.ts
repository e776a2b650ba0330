import { describe, expect, it } from 'vitest';
import { CALL_GRAPH, DEFAULT_PORTS, SERVICE_NAMES, STATUS_PAGE_PORT, callersOf, downstreamsOf } from './index.js';

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
    const ports = [...Object.values(DEFAULT_PORTS).flatMap((p) => [p.main, p.admin]), STATUS_PAGE_PORT];
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe('eventSubscriptions', () => {
  it('lists the topics each consumer group reads', async () => {
    const { eventSubscriptions } = await import('./index.js');
    expect(eventSubscriptions()).toEqual({
      audit: ['jamey.consciousness.events.v1', 'jamey.gateway.events.v1', 'jamey.memory.events.v1', 'jamey.soul.events.v1', 'jamey.telemetry.events.v1'],
    });
  });
});

describe('edgePolicy', () => {
  it('gives every edge a policy whose attempts fit inside the caller budget', async () => {
    const { edgePolicy } = await import('./index.js');
    for (const edge of CALL_GRAPH) {
      const policy = edgePolicy(edge);
      expect(policy.attemptTimeoutMs * policy.maxAttempts, `${edge.from}->${edge.to}`).toBeLessThan(policy.budgetMs);
      expect(policy.maxAttempts).toBeGreaterThanOrEqual(1);
    }
  });

  it('nests budgets: what consciousness spends on memory and soul fits in the gateway budget for a perception', async () => {
    const { edgePolicy } = await import('./index.js');
    const outer = edgePolicy({ from: 'gateway', to: 'consciousness' });
    const inner = edgePolicy({ from: 'consciousness', to: 'memory' });
    expect(inner.budgetMs).toBeLessThan(outer.budgetMs);
  });

  it('refuses an edge outside the call graph', async () => {
    const { edgePolicy } = await import('./index.js');
    expect(() => edgePolicy({ from: 'memory', to: 'soul' })).toThrow(/not an edge/);
  });
});

describe('consumerPolicy', () => {
  it('retries a few times with a capped backoff before dead-lettering', async () => {
    const { consumerPolicy, eventSubscriptions } = await import('./index.js');
    for (const group of Object.keys(eventSubscriptions())) {
      const policy = consumerPolicy(group);
      expect(policy.maxAttempts).toBeGreaterThan(1);
      expect(policy.initialBackoffMs).toBeLessThanOrEqual(policy.maxBackoffMs);
    }
    expect(() => consumerPolicy('')).toThrow();
  });
});
