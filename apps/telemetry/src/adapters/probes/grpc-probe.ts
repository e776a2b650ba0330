import { checkHealth } from '@jamey/rpc';
import type { HealthProbe } from '../../domain/health.js';

/**
 * A probe that calls `grpc.health.v1.Health/Check` for `service` (fully qualified, for example
 * `jamey.memory.v1.MemoryService`) on `address`. `checkHealth` takes a timeout rather than a
 * signal; the monitor stops waiting on abort, and the call ends at its own deadline.
 */
export function createGrpcHealthProbe(address: string, service: string, timeoutMs: number): HealthProbe {
  return async (signal) => {
    signal.throwIfAborted();
    return checkHealth(address, service, timeoutMs);
  };
}
