import { telemetry as pb } from '@jamey/proto';
import { describe, expect, it } from 'vitest';
import { systemHealthToJson } from './system.js';

describe('system health mapping', () => {
  it('maps statuses to lowercase names and leaves out empty details and absent times', () => {
    const json = systemHealthToJson({
      status: pb.HealthStatus.HEALTH_STATUS_DEGRADED,
      services: [
        { service: 'memory', target: 'm:1', status: pb.HealthStatus.HEALTH_STATUS_SERVING, detail: '', latencyMs: 2, checkTime: new Date(0), dependencies: [], metricsDetail: '' },
        { service: 'soul', target: 's:1', status: pb.HealthStatus.HEALTH_STATUS_DOWN, detail: 'refused', latencyMs: 0, checkTime: undefined, dependencies: [], metricsDetail: '' },
        { service: 'audit', target: 'a:1', status: pb.HealthStatus.HEALTH_STATUS_UNSPECIFIED, detail: '', latencyMs: 0, dependencies: [], metricsDetail: '' },
      ],
      checkTime: new Date(0),
    });
    expect(json).toEqual({
      status: 'degraded',
      services: [
        { service: 'memory', target: 'm:1', status: 'serving', detail: undefined, latencyMs: 2, checkTime: '1970-01-01T00:00:00.000Z' },
        { service: 'soul', target: 's:1', status: 'down', detail: 'refused', latencyMs: 0, checkTime: undefined },
        { service: 'audit', target: 'a:1', status: 'unspecified', detail: undefined, latencyMs: 0, checkTime: undefined },
      ],
      checkTime: '1970-01-01T00:00:00.000Z',
    });
  });

  it("maps telemetry's view of each service's dependencies once it has scraped them", () => {
    const json = systemHealthToJson({
      status: pb.HealthStatus.HEALTH_STATUS_SERVING,
      services: [
        {
          service: 'gateway',
          target: 'g:1',
          status: pb.HealthStatus.HEALTH_STATUS_SERVING,
          detail: '',
          latencyMs: 1,
          checkTime: new Date(0),
          dependencies: [
            { name: 'memory', level: pb.DegradationLevel.DEGRADATION_LEVEL_OFFLINE, circuit: pb.CircuitState.CIRCUIT_STATE_OPEN },
            { name: 'postgres', level: pb.DegradationLevel.DEGRADATION_LEVEL_FULL, circuit: pb.CircuitState.CIRCUIT_STATE_UNSPECIFIED },
          ],
          metricsTime: new Date(1000),
          metricsDetail: 'scrape timed out',
        },
      ],
    });
    expect(json.services[0]).toMatchObject({
      dependencies: [
        { name: 'memory', level: 'offline', circuit: 'open' },
        { name: 'postgres', level: 'full', circuit: 'unknown' },
      ],
      metricsTime: '1970-01-01T00:00:01.000Z',
      metricsDetail: 'scrape timed out',
    });
  });

  it('rejects a status the gateway does not know', () => {
    expect(() => systemHealthToJson({ status: 9 as pb.HealthStatus, services: [] })).toThrow(/HealthStatus value 9/);
  });
});
