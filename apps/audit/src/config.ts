import { loadConfig, millis, z, type Env } from '@jamey/config';
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
  /** `AUDIT_TREE_HEAD_INTERVAL_MS`: how often a tree head is signed (when the log grew), default 10 s. */
  readonly treeHeadIntervalMs: number;
  /** `AUDIT_LOG_ORIGIN`: the log's origin line in checkpoints and its key name, default `jamey.io/audit`. */
  readonly logOrigin: string;
  /**
   * `AUDIT_SIGNING_KEY_FILE`: the Ed25519 PKCS#8 PEM file the tree heads are signed with. The
   * key itself (`AUDIT_SIGNING_KEY`) is deliberately not part of the configuration object, so
   * logging the configuration can never print it; `main.ts` reads it from the environment.
   */
  readonly signingKeyFile: string | undefined;
  /**
   * `AUDIT_RETENTION_DAYS`: records stored longer ago move to the archive table (out of
   * QueryRecords; proofs and verification unaffected). Unset: every record stays live.
   */
  readonly retentionDays: number | undefined;
  /** `AUDIT_ARCHIVE_INTERVAL_MS`: how often retention runs, default 1 h. */
  readonly archiveIntervalMs: number;
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
  AUDIT_TREE_HEAD_INTERVAL_MS: millis(10_000),
  AUDIT_LOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]{1,200}$/, 'must be 1..200 characters without spaces or "+"')
    .default('jamey.io/audit'),
  AUDIT_SIGNING_KEY_FILE: z.string().optional(),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  AUDIT_ARCHIVE_INTERVAL_MS: millis(3_600_000),
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
    treeHeadIntervalMs: parsed.AUDIT_TREE_HEAD_INTERVAL_MS,
    logOrigin: parsed.AUDIT_LOG_ORIGIN,
    signingKeyFile: parsed.AUDIT_SIGNING_KEY_FILE?.trim() || undefined,
    retentionDays: parsed.AUDIT_RETENTION_DAYS,
    archiveIntervalMs: parsed.AUDIT_ARCHIVE_INTERVAL_MS,
  });
}
