import { Type, type Static } from 'typebox';
import { IsoTime, stringEnum } from './common.js';

/** Health statuses, lowercase (`jamey.telemetry.v1.HealthStatus` without its prefix). */
export const HEALTH_STATUSES = ['unspecified', 'serving', 'degraded', 'down'] as const;

/** Degradation levels (`DegradationLevel` in @jamey/resilience). */
export const DEGRADATION_LEVELS = ['full', 'degraded', 'minimal', 'offline'] as const;

/** Circuit breaker states. */
export const CIRCUIT_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

/** Response of `GET /v1/system/health`. */
export const SystemHealthSchema = Type.Object(
  {
    status: stringEnum(HEALTH_STATUSES, { description: 'Aggregate: serving, degraded (some service is not serving) or down.' }),
    services: Type.Array(
      Type.Object(
        {
          service: Type.String(),
          target: Type.String({ description: 'The polled host:port.' }),
          status: stringEnum(HEALTH_STATUSES),
          detail: Type.Optional(Type.String({ description: 'Why the check failed, when it did.' })),
          latencyMs: Type.Number({ minimum: 0 }),
          checkTime: Type.Optional(IsoTime()),
          dependencies: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: Type.String({ description: 'The dependency: a downstream service, postgres, …' }),
                  level: stringEnum([...DEGRADATION_LEVELS, 'unknown'], { description: 'Its degradation level as the service reports it.' }),
                  circuit: stringEnum([...CIRCUIT_STATES, 'unknown'], { description: "The service's breaker for it; unknown when it has none." }),
                },
                { additionalProperties: false },
              ),
              { description: "The service's dependencies, from telemetry's latest scrape of its /metrics." },
            ),
          ),
          metricsTime: Type.Optional(IsoTime()),
          metricsDetail: Type.Optional(Type.String({ description: 'Why the latest metrics scrape failed, when it did.' })),
        },
        { additionalProperties: false },
      ),
    ),
    checkTime: Type.Optional(IsoTime()),
  },
  { additionalProperties: false, title: 'SystemHealth' },
);
export type SystemHealthJson = Static<typeof SystemHealthSchema>;


/** Response of `GET /v1/system/degradation`. */
export const DegradationSchema = Type.Object(
  {
    dependencies: Type.Array(
      Type.Object(
        {
          name: Type.String({ description: 'The downstream service.' }),
          level: stringEnum(DEGRADATION_LEVELS, { description: 'full, degraded, minimal or offline.' }),
          circuit: stringEnum(CIRCUIT_STATES, { description: "The gateway's breaker for this downstream." }),
          retryAfterMs: Type.Integer({ minimum: 0, description: 'While open: ms until the breaker admits a trial call.' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: 'Degradation' },
);
export type DegradationJson = Static<typeof DegradationSchema>;
