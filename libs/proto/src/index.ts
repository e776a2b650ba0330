/**
 * Generated protobuf types and gRPC service definitions for every Jamey API and event.
 * Everything under `gen/` is produced by `npm run proto:generate` and never edited by hand.
 */
export * as common from './gen/jamey/common/v1/envelope.js';
export * as pagination from './gen/jamey/common/v1/pagination.js';
export * as errors from './gen/jamey/common/v1/errors.js';
export * as memory from './gen/jamey/memory/v1/memory.js';
export * as memoryEvents from './gen/jamey/memory/v1/events.js';
export * as soul from './gen/jamey/soul/v1/soul.js';
export * as soulEvents from './gen/jamey/soul/v1/events.js';
export * as consciousness from './gen/jamey/consciousness/v1/consciousness.js';
export * as consciousnessEvents from './gen/jamey/consciousness/v1/events.js';
export * as audit from './gen/jamey/audit/v1/audit.js';
export * as access from './gen/jamey/audit/v1/access.js';
export * as telemetry from './gen/jamey/telemetry/v1/telemetry.js';
export * as telemetryEvents from './gen/jamey/telemetry/v1/events.js';
export * as rpcStatus from './gen/google/rpc/status.js';
export * as rpcErrorDetails from './gen/google/rpc/error_details.js';
export { Any } from './gen/google/protobuf/any.js';
export { descriptorSetBase64 } from './gen/descriptor-set.js';
export { METHODS, type Idempotency } from './gen/methods.js';
