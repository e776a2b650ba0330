/** The transports' readiness ping: a real broker answers, an unreachable one is reported quickly. */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isJameyError } from '@jamey/core';
import { silentLogger } from '@jamey/data';
import { describeWithInfra, KAFKA_BROKERS } from '@jamey/data/testing';
import { createInProcessTransport, createKafkaTransport } from './index.js';

/** A loopback port with nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('in-process bus ping', () => {
  it('always answers', async () => {
    const bus = createInProcessTransport();
    await expect(bus.ping!()).resolves.toBeUndefined();
    await bus.close();
  });
});

describe('Kafka ping to an unreachable broker', () => {
  it('rejects with DEPENDENCY_UNAVAILABLE naming kafka, within a connection timeout', async () => {
    const port = await closedPort();
    const kafka = createKafkaTransport({ brokers: [`127.0.0.1:${port}`], clientId: 'ping-test', logger: silentLogger, connectTimeoutMs: 500 });
    const started = Date.now();
    const error = await kafka.ping!(AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(isJameyError(error) && error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(isJameyError(error) && error.details.dependency).toBe('kafka');
    expect(Date.now() - started).toBeLessThan(5_000);
    await kafka.close();
  });

  it('gives up when the caller does, on a broker that accepts connections and never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const kafka = createKafkaTransport({ brokers: [`127.0.0.1:${port}`], clientId: 'ping-test', logger: silentLogger });
    const signal = AbortSignal.timeout(100);
    await expect(kafka.ping!(signal)).rejects.toThrow(/aborted due to timeout/);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await kafka.close();
  });
});

describeWithInfra([KAFKA_BROKERS], 'Kafka ping to the real broker', (env) => {
  it('answers, also for concurrent callers', async () => {
    const kafka = createKafkaTransport({ brokers: env.KAFKA_BROKERS!.split(','), clientId: 'ping-test', logger: silentLogger });
    await expect(Promise.all([kafka.ping!(AbortSignal.timeout(10_000)), kafka.ping!(AbortSignal.timeout(10_000))])).resolves.toEqual([
      undefined,
      undefined,
    ]);
    await kafka.close();
  });
});
