import { loadConfig, z, type Env } from '@jamey/config';
import { kafkaEnvShape, serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';

/** The audit service's configuration. */
export interface AuditConfig {
  readonly service: ServiceSettings;
  readonly kafkaBrokers: readonly string[];
  /**
   * `AUDIT_REPLAY_FROM` (ISO 8601 time with offset): when set, the consumer starts from the
   * first event at or after this time instead of its committed position. Records already
   * stored are not duplicated.
   */
  readonly replayFrom: Date | undefined;
  /** `AUDIT_CONSUMER_GROUP`: the Kafka consumer group, default `audit`. */
  readonly consumerGroup: string;
}

const schema = z.object({
  ...serviceEnvShape('audit'),
  ...kafkaEnvShape,
  AUDIT_CONSUMER_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1..200 characters of letters, digits, ".", "_" or "-"')
    .default('audit'),
  AUDIT_REPLAY_FROM: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 time such as 2026-01-01T00:00:00Z' })
    .optional(),
});

/** Reads, validates and freezes the audit service's configuration. @throws ConfigError */
export function loadAuditConfig(env: Env): AuditConfig {
  const parsed = loadConfig(schema, env);
  return Object.freeze({
    service: toServiceSettings('audit', parsed),
    kafkaBrokers: parsed.KAFKA_BROKERS,
    // Converted here, not in the schema: loadConfig deep-freezes its result, which a Date does not survive.
    consumerGroup: parsed.AUDIT_CONSUMER_GROUP,
    replayFrom: parsed.AUDIT_REPLAY_FROM === undefined ? undefined : new Date(parsed.AUDIT_REPLAY_FROM),
  });
}
