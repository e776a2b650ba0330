import type { Clock, RandomSource } from '@jamey/core';
import { audit, consciousness, memory, soul, telemetry } from '@jamey/proto';
import {
  createEdgePolicies,
  createRpcClient,
  type EdgePolicies,
  type ErrorLogger,
  type PromiseClient,
  type RpcClientCallObserver,
} from '@jamey/rpc';
import type { ServiceTokenMinter } from '@jamey/security';
import { edgePolicy, type GrpcServiceName } from '@jamey/topology';

/** The gRPC service definition of every service the gateway calls (CALL_GRAPH: gateway → all). */
export const DOWNSTREAM_DEFINITIONS = Object.freeze({
  memory: memory.MemoryServiceService,
  consciousness: consciousness.ConsciousnessServiceService,
  soul: soul.SoulServiceService,
  audit: audit.AuditServiceService,
  telemetry: telemetry.TelemetryServiceService,
} satisfies Record<GrpcServiceName, unknown>);

/** A service the gateway calls. */
export type Downstream = keyof typeof DOWNSTREAM_DEFINITIONS;

/** Every downstream the gateway calls, in a fixed order. */
export const DOWNSTREAMS = Object.freeze(Object.keys(DOWNSTREAM_DEFINITIONS) as Downstream[]);

/** One promise client per downstream. */
export type GatewayClients = { readonly [K in Downstream]: PromiseClient<(typeof DOWNSTREAM_DEFINITIONS)[K]> };

/** Options for {@link createGatewayClients}. */
export interface GatewayClientsOptions {
  /** `host:port` of each downstream. */
  readonly addresses: Readonly<Record<Downstream, string>>;
  readonly clock: Clock;
  /** Budget of a call made without a deadline; requests always pass theirs. */
  readonly defaultTimeoutMs: number;
  /** Each downstream's breaker, bulkhead, retry and timeout ({@link createGatewayPolicies}). */
  readonly policies?: Readonly<Record<Downstream, EdgePolicies>>;
  /** Told about every call (`rpc_client_call_duration_seconds` via `createRpcMetrics`). */
  readonly observer?: RpcClientCallObserver;
  /** Where an observer's failure is logged. */
  readonly logger?: ErrorLogger;
  /**
   * Mints the gateway's service token for each call (`createServiceAuth('gateway', …).minter`):
   * every service refuses calls without one.
   */
  readonly serviceTokens?: ServiceTokenMinter;
}

/**
 * The resilience policies of every gateway edge, from the one policy table (`edgePolicy` in
 * @jamey/topology). `retries: false` leaves retrying to the service mesh.
 */
export function createGatewayPolicies(options: { clock: Clock; random: RandomSource; retries: boolean }): Record<Downstream, EdgePolicies> {
  return Object.fromEntries(
    DOWNSTREAMS.map((name) => [
      name,
      createEdgePolicies({ dependency: name, policy: edgePolicy({ from: 'gateway', to: name }), ...options }),
    ]),
  ) as Record<Downstream, EdgePolicies>;
}

/** Creates a client per downstream. Channels connect lazily, so this never blocks. */
export function createGatewayClients(options: GatewayClientsOptions): GatewayClients {
  const client = <K extends Downstream>(name: K) =>
    createRpcClient(DOWNSTREAM_DEFINITIONS[name], {
      dependency: name,
      address: options.addresses[name],
      clock: options.clock,
      defaultTimeoutMs: options.defaultTimeoutMs,
      ...(options.policies ? { policies: options.policies[name] } : {}),
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.serviceTokens ? { serviceToken: (userSubject?: string) => options.serviceTokens!.mint(name, userSubject) } : {}),
    });
  return Object.freeze({
    memory: client('memory'),
    consciousness: client('consciousness'),
    soul: client('soul'),
    audit: client('audit'),
    telemetry: client('telemetry'),
  });
}

/** Closes every client's channel. */
export function closeGatewayClients(clients: GatewayClients): void {
  for (const name of DOWNSTREAMS) clients[name].close();
}
