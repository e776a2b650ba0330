export { startMemoryService, memoryMigrationsDir, type MemoryServiceOptions } from './service.js';
export { loadMemoryConfig, type MemoryConfig } from './config.js';
