import { flag, grpcAddress, loadConfig, millis, z, type Env } from '@jamey/config';
import { kafkaEnvShape, serviceEnvShape, toServiceSettings, type ServiceSettings } from '@jamey/service';
import { DEFAULT_PORTS } from '@jamey/topology';

/** The consciousness service's configuration. */
export interface ConsciousnessConfig {
  readonly service: ServiceSettings;
  readonly kafkaBrokers: readonly string[];
  /** `MEMORY_ADDRESS`, host:port of memory's gRPC server. Default `127.0.0.1:50051`. */
  readonly memoryAddress: string;
  /** `SOUL_ADDRESS`, host:port of soul's gRPC server. Default `127.0.0.1:50053`. */
  readonly soulAddress: string;
  /**
   * `CONSCIOUSNESS_DEPENDENCY_BUDGET_MS`: most time a perception waits for memory and soul
   * before recording without them. Default 1500 ms.
   */
  readonly dependencyBudgetMs: number;
  /** `JAMEY_RPC_RETRIES`: whether calls to memory and soul are retried here. Default true. */
  readonly rpcRetries: boolean;
  /** `CONSCIOUSNESS_PHI_INTERVAL_MS`: how often Φ is estimated for the metric. Default 10 s. */
  readonly phiIntervalMs: number;
}

/** Reads, validates and freezes the consciousness service's configuration. @throws ConfigError */
export function loadConsciousnessConfig(env: Env): ConsciousnessConfig {
  const parsed = loadConfig(
    z.object({
      ...serviceEnvShape('consciousness'),
      ...kafkaEnvShape,
      MEMORY_ADDRESS: grpcAddress(`127.0.0.1:${DEFAULT_PORTS.memory.main}`),
      SOUL_ADDRESS: grpcAddress(`127.0.0.1:${DEFAULT_PORTS.soul.main}`),
      CONSCIOUSNESS_DEPENDENCY_BUDGET_MS: millis(1500),
      JAMEY_RPC_RETRIES: flag(true),
      CONSCIOUSNESS_PHI_INTERVAL_MS: millis(10_000),
    }),
    env,
  );
  return Object.freeze({
    service: toServiceSettings('consciousness', parsed),
    kafkaBrokers: parsed.KAFKA_BROKERS,
    memoryAddress: parsed.MEMORY_ADDRESS,
    soulAddress: parsed.SOUL_ADDRESS,
    dependencyBudgetMs: parsed.CONSCIOUSNESS_DEPENDENCY_BUDGET_MS,
    rpcRetries: parsed.JAMEY_RPC_RETRIES,
    phiIntervalMs: parsed.CONSCIOUSNESS_PHI_INTERVAL_MS,
  });
}
