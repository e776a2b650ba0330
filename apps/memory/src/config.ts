import { loadConfig, z, type Env } from '@jamey/config';
import { kafkaEnvShape, serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';

/** The memory service's configuration. */
export interface MemoryConfig {
  readonly service: ServiceSettings;
  readonly kafkaBrokers: readonly string[];
}

/** Reads, validates and freezes the memory service's configuration. @throws ConfigError */
export function loadMemoryConfig(env: Env): MemoryConfig {
  const parsed = loadConfig(z.object({ ...serviceEnvShape('memory'), ...kafkaEnvShape }), env);
  return Object.freeze({ service: toServiceSettings('memory', parsed), kafkaBrokers: parsed.KAFKA_BROKERS });
}
