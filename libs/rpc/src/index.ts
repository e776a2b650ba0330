export {
  type CallContext,
  type UnaryHandler,
  type ServiceHandlers,
  type RpcServer,
  type RpcServerOptions,
  type RefusalDetails,
  createRpcServer,
  VERIFIED_CALLER_METADATA_KEY,
  VERIFIED_USER_METADATA_KEY,
} from './server.js';
export { type PromiseClient, type RpcCallOptions, type RpcClientOptions, createRpcClient } from './client.js';
export { type ErrorLogger, toGrpcStatus, fromGrpcError, readErrorInfo, isTransientGrpcCode } from './status.js';
export { checkHealth, type HealthCheckResult } from './health-client.js';
export { createEdgePolicies, type EdgePolicies, type EdgePolicyOptions } from './edge-policy.js';
export {
  type RpcCallRecord,
  type RpcClientCallRecord,
  type RpcCallObserver,
  type RpcClientCallObserver,
  grpcStatusName,
} from './observe.js';
