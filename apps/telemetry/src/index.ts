export {
  startTelemetryService,
  telemetryMigrationsDir,
  healthTargets,
  type TelemetryServiceOptions,
  type RunningTelemetryService,
} from './service.js';
export { loadTelemetryConfig, type TelemetryConfig, type TelemetryTargets } from './config.js';
