import { credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/** The answer of one `grpc.health.v1.Health/Check` call. */
export interface HealthCheckResult {
  readonly status: 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN' | 'UNREACHABLE';
  /** Why the check failed, when it did. */
  readonly detail?: string;
}

const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');

/**
 * Calls `grpc.health.v1.Health/Check` on `address` for `service` ('' is the whole server).
 * Never throws: an unreachable server is reported as UNREACHABLE with the reason.
 */
export function checkHealth(address: string, service: string, timeoutMs: number): Promise<HealthCheckResult> {
  const client = new HealthClient(address, credentials.createInsecure());
  return new Promise<HealthCheckResult>((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      healthService['Check']!.requestSerialize,
      healthService['Check']!.responseDeserialize,
      { service },
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error: ServiceError | null, response?: { status?: string | number }) => {
        if (error) {
          resolve({ status: error.code === 5 ? 'SERVICE_UNKNOWN' : 'UNREACHABLE', detail: error.details || error.message });
          return;
        }
        const status = response?.status;
        resolve({ status: status === 'SERVING' || status === 1 ? 'SERVING' : status === 'NOT_SERVING' || status === 2 ? 'NOT_SERVING' : 'UNKNOWN' });
      },
    );
  }).finally(() => client.close());
}
