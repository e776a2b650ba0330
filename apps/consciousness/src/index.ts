export {
  startConsciousnessService,
  consciousnessMigrationsDir,
  type ConsciousnessServiceOptions,
} from './service.js';
export { loadConsciousnessConfig, type ConsciousnessConfig } from './config.js';
