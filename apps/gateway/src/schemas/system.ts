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

/** Alert states and severities, lowercase (`jamey.telemetry.v1.AlertState` / `AlertSeverity` without their prefix). */
export const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;

/** Query of `GET /v1/system/alerts`. */
export const AlertsQuery = Type.Object(
  {
    state: Type.Optional(
      Type.Array(stringEnum(ALERT_STATES), { description: 'States to list (repeat the parameter); default pending and firing.', maxItems: 3 }),
    ),
    pageSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'At most this many, newest first; 0 or absent: 100.' })),
  },
  { additionalProperties: false },
);
export type AlertsQueryJson = Static<typeof AlertsQuery>;

/** Response of `GET /v1/system/alerts`. */
export const AlertsSchema = Type.Object(
  {
    alerts: Type.Array(
      Type.Object(
        {
          id: Type.String({ description: 'This episode of the alert (UUIDv7).' }),
          fingerprint: Type.String({ description: 'The rule and labels: one alert per fingerprint.' }),
          rule: Type.String({ description: 'The alert rule (apps/telemetry/alert-rules.yaml).' }),
          severity: stringEnum(ALERT_SEVERITIES),
          state: stringEnum(ALERT_STATES),
          labels: Type.Record(Type.String(), Type.String()),
          value: Type.Union([Type.Number(), Type.Null()], { description: 'The measured value; null when not a finite number.' }),
          summary: Type.String(),
          description: Type.String(),
          activeTime: IsoTime(),
          fireTime: Type.Optional(IsoTime()),
          resolveTime: Type.Optional(IsoTime()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: 'Alerts' },
);
export type AlertsJson = Static<typeof AlertsSchema>;
