export { type Logger, type LoggerOptions, createLogger, parseRedactPaths, REDACTED_PATHS } from './logger.js';
export { createMetricsRegistry, LATENCY_BUCKETS_SECONDS, Registry } from './metrics.js';
export {
  type Health,
  type HealthCheck,
  type HealthOptions,
  type CheckOptions,
  type CheckResult,
  type ReadinessOptions,
  type ReadinessReport,
  createHealth,
} from './health.js';
export { type RpcMetrics, type RpcCallRecord, type RpcClientCallRecord, createRpcMetrics } from './rpc-metrics.js';
export { type DatabaseMetricsOptions, type DatabaseCallRecord, type PoolOccupancy, createDatabaseMetrics } from './database-metrics.js';
export { type AdminServer, type AdminServerOptions, startAdminServer } from './admin-server.js';
export {
  type ResilienceMetrics,
  type ObservedPolicies,
  createResilienceMetrics,
  DEGRADATION_LEVEL_VALUES,
} from './resilience-metrics.js';
export { shutdownTelemetry } from './tracing/sdk.js';
