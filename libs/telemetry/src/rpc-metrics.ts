import type { RpcCallRecord, RpcClientCallRecord } from '@jamey/rpc';
import { Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from './metrics.js';

export type { RpcCallRecord, RpcClientCallRecord };

/** Observers that turn `@jamey/rpc` call reports into RED metrics on one registry. */
export interface RpcMetrics {
  /** For `createRpcServer({ observer })`: `rpc_server_call_duration_seconds{method,code}`. */
  readonly server: (call: RpcCallRecord) => void;
  /** For `createRpcClient({ observer })`: `rpc_client_call_duration_seconds{dependency,method,code}`. */
  readonly client: (call: RpcClientCallRecord) => void;
}

/**
 * Registers the gRPC RED histograms on `registry` (once per registry). Each histogram's
 * `_count` gives the rate of calls and, by `code`, of errors; its buckets give the latency.
 * Labels are bounded: methods come from the service definitions, codes from gRPC's 17.
 */
export function createRpcMetrics(registry: Registry): RpcMetrics {
  const buckets = [...LATENCY_BUCKETS_SECONDS];
  const server = new Histogram({
    name: 'rpc_server_call_duration_seconds',
    help: 'Duration of gRPC calls served, by full method and status code.',
    labelNames: ['method', 'code'] as const,
    buckets,
    registers: [registry],
  });
  const client = new Histogram({
    name: 'rpc_client_call_duration_seconds',
    help: 'Duration of gRPC calls made, by callee, full method and status code; one per logical call, retries included.',
    labelNames: ['dependency', 'method', 'code'] as const,
    buckets,
    registers: [registry],
  });
  return {
    server: ({ method, code, durationMs }) => server.observe({ method, code }, durationMs / 1000),
    client: ({ dependency, method, code, durationMs }) => client.observe({ dependency, method, code }, durationMs / 1000),
  };
}
