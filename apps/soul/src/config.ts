import { loadConfig, z, type Env } from '@jamey/config';
import { kafkaEnvShape, serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';

/** The soul service's configuration. */
export interface SoulConfig {
  readonly service: ServiceSettings;
  readonly kafkaBrokers: readonly string[];
}

/** Reads, validates and freezes the soul service's configuration. @throws ConfigError */
export function loadSoulConfig(env: Env): SoulConfig {
  const parsed = loadConfig(z.object({ ...serviceEnvShape('soul'), ...kafkaEnvShape }), env);
  return Object.freeze({ service: toServiceSettings('soul', parsed), kafkaBrokers: parsed.KAFKA_BROKERS });
}
