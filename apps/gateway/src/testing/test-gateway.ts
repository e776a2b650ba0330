/** Builds the gateway over fake downstreams, capturing its log lines. */
import { systemClock, type Clock } from '@jamey/core';
import { createLogger } from '@jamey/telemetry';
import { closeGatewayClients, createGatewayClients, type Downstream } from '../clients.js';
import type { RateLimitSettings } from '../rate-limit/register.js';
import { buildGateway, type GatewayInstance } from '../server.js';

/** Options for {@link createTestGateway}. */
export interface TestGatewayOptions {
  readonly addresses: Readonly<Record<Downstream, string>>;
  readonly downstreamTimeoutMs?: number;
  /** The clients' own budget for calls without a deadline; large, so tests see the request's. */
  readonly clientDefaultTimeoutMs?: number;
  readonly bodyLimitBytes?: number;
  readonly clock?: Clock;
  /** Default: no rate limit. */
  readonly rateLimit?: RateLimitSettings;
}

/** A gateway under test. */
export interface TestGateway {
  readonly app: GatewayInstance;
  /** Every log line, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Builds (but does not listen) a gateway whose clients talk to `addresses`. */
export function createTestGateway(options: TestGatewayOptions): TestGateway {
  const clock = options.clock ?? systemClock;
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'gateway',
    level: 'debug',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const clients = createGatewayClients({ addresses: options.addresses, clock, defaultTimeoutMs: options.clientDefaultTimeoutMs ?? 60_000 });
  const app = buildGateway({
    clients,
    clock,
    logger,
    downstreamTimeoutMs: options.downstreamTimeoutMs ?? 5000,
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    version: '0.0.0-test',
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
  });
  return {
    app,
    logs,
    async close() {
      await app.close();
      closeGatewayClients(clients);
    },
  };
}
