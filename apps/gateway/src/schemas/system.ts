import { Type, type Static } from 'typebox';
import { IsoTime, stringEnum } from './common.js';

/** Health statuses, lowercase (`jamey.telemetry.v1.HealthStatus` without its prefix). */
export const HEALTH_STATUSES = ['unspecified', 'serving', 'degraded', 'down'] as const;

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
        },
        { additionalProperties: false },
      ),
    ),
    checkTime: Type.Optional(IsoTime()),
  },
  { additionalProperties: false, title: 'SystemHealth' },
);
export type SystemHealthJson = Static<typeof SystemHealthSchema>;
