export { startSoulService, soulMigrationsDir } from './service.js';
export { loadSoulConfig, type SoulConfig } from './config.js';
