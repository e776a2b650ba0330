export { type Clock, type ManualClock, systemClock, createManualClock } from './clock.js';
export { type RandomSource, cryptoRandom, createSeededRandom } from './random.js';
export { type IdGenerator, createIdGenerator, isUuid, isUuidV7 } from './ids.js';
export {
  ERROR_CODES,
  ERROR_DOMAIN,
  type ErrorCode,
  type ErrorDetails,
  JameyError,
  isJameyError,
  invalidArgument,
  notFound,
  dependencyUnavailable,
  errorCodeForGrpc,
} from './errors.js';
export { throwIfAborted, delay } from './abort.js';
export { type PeriodicTaskOptions, type PeriodicTask, createPeriodicTask } from './periodic.js';
export { type ProcessLogger, exitOnSignals } from './process.js';
export { assertStorableText } from './text.js';
