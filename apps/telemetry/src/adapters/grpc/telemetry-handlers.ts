import { telemetry as pb } from '@jamey/proto';
import type { ServiceHandlers } from '@jamey/rpc';
import type { HealthMonitor } from '../../domain/health-monitor.js';
import type { ServiceHealthStatus } from '../../domain/health.js';

const STATUS_TO_PROTO: Readonly<Record<ServiceHealthStatus, pb.HealthStatus>> = {
  SERVING: pb.HealthStatus.HEALTH_STATUS_SERVING,
  DEGRADED: pb.HealthStatus.HEALTH_STATUS_DEGRADED,
  DOWN: pb.HealthStatus.HEALTH_STATUS_DOWN,
};

/** gRPC handlers of `jamey.telemetry.v1.TelemetryService`. */
export function createTelemetryHandlers(monitor: HealthMonitor): ServiceHandlers<pb.TelemetryServiceServer> {
  return {
    async getSystemHealth(_request, { signal }) {
      const health = await monitor.systemHealth(signal);
      return {
        status: STATUS_TO_PROTO[health.status],
        services: health.services.map((service) => ({
          service: service.service,
          target: service.target,
          status: STATUS_TO_PROTO[service.status],
          detail: service.detail,
          latencyMs: service.latencyMs,
          checkTime: service.checkedAt,
        })),
        checkTime: health.checkedAt,
      };
    },
  };
}
