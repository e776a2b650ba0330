export { startMemoryService, memoryMigrationsDir } from './service.js';
export { loadMemoryConfig, type MemoryConfig } from './config.js';
