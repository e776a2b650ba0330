/** Builds the gateway over fake downstreams, capturing its log lines. */
import { systemClock, type Clock } from '@jamey/core';
import type { ServiceTokenMinter, UserTokenVerifier } from '@jamey/security';
import { createLogger } from '@jamey/telemetry';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { closeGatewayClients, createGatewayClients, type Downstream } from '../clients.js';
import type { RateLimitSettings } from '../rate-limit/register.js';
import { buildGateway, type GatewayInstance } from '../server.js';
import { createTestVerifier, mintTestToken, type TestTokenOptions } from './test-tokens.js';

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
  /** Default: a verifier trusting the test key ({@link mintTestToken}). */
  readonly auth?: UserTokenVerifier;
  readonly corsOrigins?: readonly string[];
  readonly trustProxy?: boolean | number | readonly string[];
  /** Service tokens on every downstream call (`createServiceAuth('gateway', …).minter`). Default none. */
  readonly serviceTokens?: ServiceTokenMinter;
}

/** A gateway under test. */
export interface TestGateway {
  readonly app: GatewayInstance;
  /** Every log line, parsed. */
  readonly logs: Record<string, unknown>[];
  /** A token the gateway accepts, issued now by its clock (default: every scope). */
  token(options?: TestTokenOptions): Promise<string>;
  /**
   * `app.inject` as a signed-in caller: adds `Authorization: Bearer <token with every scope>`
   * unless the request sets its own `authorization` header.
   */
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
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
  const clients = createGatewayClients({
    addresses: options.addresses,
    clock,
    defaultTimeoutMs: options.clientDefaultTimeoutMs ?? 60_000,
    ...(options.serviceTokens ? { serviceTokens: options.serviceTokens } : {}),
  });
  const app = buildGateway({
    clients,
    clock,
    logger,
    downstreamTimeoutMs: options.downstreamTimeoutMs ?? 5000,
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    version: '0.0.0-test',
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    auth: options.auth ?? createTestVerifier(clock),
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
  });
  const token = (tokenOptions: TestTokenOptions = {}) => mintTestToken({ clock, ...tokenOptions });
  return {
    app,
    logs,
    token,
    async inject(request) {
      const headers: Record<string, string | string[] | number | undefined> = { ...request.headers };
      if (!Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) headers['authorization'] = `Bearer ${await token()}`;
      return app.inject({ ...request, headers });
    },
    async close() {
      await app.close();
      closeGatewayClients(clients);
    },
  };
}
