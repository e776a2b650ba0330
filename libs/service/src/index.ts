export { type ServiceSettings, serviceEnvShape, toServiceSettings, kafkaEnvShape } from './settings.js';
export {
  type ServiceKit,
  type ServiceKitOptions,
  type RunningService,
  type Worker,
  createServiceKit,
  startServiceKit,
} from './kit.js';
export { guardDatabase } from './guarded-database.js';
export { type GuardedDatabase, openGuardedDatabase, type OpenGuardedDatabaseOptions } from './database.js';
export { stopOnSignals, loadServiceAuth } from './process.js';
export { createRefusalRecorder, ipOfPeer, type Refusal, type RefusalBudget, type RefusalRecorder, type RefusalRecorderOptions } from './refusals.js';
