export {
  startConsciousnessService,
  consciousnessMigrationsDir,
  type ConsciousnessServiceOptions,
} from './service.js';
export { loadConsciousnessConfig, type ConsciousnessConfig } from './config.js';
export { integratedInformation, workspaceActivity, workspacePhi, PHI_LIMITS, type IntegrationEstimate } from './domain/integration.js';
