export { type Logger, type LoggerOptions, createLogger, parseRedactPaths, REDACTED_PATHS } from './logger.js';
export { createMetricsRegistry, Registry } from './metrics.js';
export { type Health, type HealthCheck, type CheckResult, type ReadinessReport, createHealth } from './health.js';
export { type AdminServer, type AdminServerOptions, startAdminServer } from './admin-server.js';
export {
  type ResilienceMetrics,
  type ObservedPolicies,
  createResilienceMetrics,
  DEGRADATION_LEVEL_VALUES,
} from './resilience-metrics.js';
export { shutdownTelemetry } from './tracing/sdk.js';
