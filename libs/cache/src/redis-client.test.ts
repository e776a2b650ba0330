/** The guarded Redis client: fails fast instead of queueing, never blocks start-up, closes cleanly. */
import { createServer } from 'node:net';
import { cryptoRandom, systemClock } from '@jamey/core';
import { describeWithInfra } from '@jamey/data/testing';
import { BrokenCircuitError } from '@jamey/resilience';
import { describe, expect, it } from 'vitest';
import { createRedisClient } from './redis-client.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const options = (url: string, warnings: string[] = []) => ({
  url,
  clock: systemClock,
  random: cryptoRandom,
  logger: { warn: (_: object, message: string) => void warnings.push(message), info: () => undefined },
  name: 'client-test',
  whenDown: 'nothing to degrade in this test',
});

describe('createRedisClient without a reachable Redis', () => {
  it('fails each command at once instead of queueing it, warns once, then fails fast on an open breaker', async () => {
    const warnings: string[] = [];
    const client = createRedisClient(options(`redis://127.0.0.1:${await closedPort()}`, warnings));
    try {
      expect(await client.ready(200)).toBe(false);
      const errors: unknown[] = [];
      for (let i = 0; i < 8; i += 1) {
        const started = performance.now();
        errors.push(await client.run((redis) => redis.get('k')).catch((error: unknown) => error));
        // Far below the 250 ms command timeout: nothing waited for a connection.
        expect(performance.now() - started).toBeLessThan(100);
      }
      expect(errors.some((error) => error instanceof BrokenCircuitError)).toBe(true);
      expect(client.policies.breaker.state).toBe('open');
      expect(warnings).toEqual(['redis unavailable: nothing to degrade in this test']);
    } finally {
      await client.close();
    }
  });
});

describeWithInfra(['REDIS_URL'], 'createRedisClient on real Redis', (env) => {
  it('runs commands once ready, and closes idempotently', async () => {
    const client = createRedisClient(options(env['REDIS_URL']!));
    expect(await client.ready(5000)).toBe(true);
    expect(await client.run((redis) => redis.ping())).toBe('PONG');
    await Promise.all([client.close(), client.close()]);
    await expect(client.run((redis) => redis.ping())).rejects.toThrow();
  });
});
