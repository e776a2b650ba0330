import { telemetry as pb } from '@jamey/proto';
import { HEALTH_STATUSES, type SystemHealthJson } from '../schemas/system.js';
import { enumMapping, nonEmpty, optionalIsoTime } from './common.js';

const statuses = enumMapping<(typeof HEALTH_STATUSES)[number], pb.HealthStatus>('HealthStatus', {
  unspecified: pb.HealthStatus.HEALTH_STATUS_UNSPECIFIED,
  serving: pb.HealthStatus.HEALTH_STATUS_SERVING,
  degraded: pb.HealthStatus.HEALTH_STATUS_DEGRADED,
  down: pb.HealthStatus.HEALTH_STATUS_DOWN,
});

/** A GetSystemHealth response as JSON. */
export function systemHealthToJson(response: pb.GetSystemHealthResponse): SystemHealthJson {
  return {
    status: statuses.fromProto(response.status),
    services: response.services.map((s) => ({
      service: s.service,
      target: s.target,
      status: statuses.fromProto(s.status),
      detail: nonEmpty(s.detail),
      latencyMs: s.latencyMs,
      checkTime: optionalIsoTime(s.checkTime),
    })),
    checkTime: optionalIsoTime(response.checkTime),
  };
}
