import type { Clock } from '@jamey/core';
import { audit, consciousness, memory, soul, telemetry } from '@jamey/proto';
import { createRpcClient, type PromiseClient } from '@jamey/rpc';
import type { GrpcServiceName } from '@jamey/topology';

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
}

/** Creates a client per downstream. Channels connect lazily, so this never blocks. */
export function createGatewayClients(options: GatewayClientsOptions): GatewayClients {
  const client = <K extends Downstream>(name: K) =>
    createRpcClient(DOWNSTREAM_DEFINITIONS[name], {
      dependency: name,
      address: options.addresses[name],
      clock: options.clock,
      defaultTimeoutMs: options.defaultTimeoutMs,
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
