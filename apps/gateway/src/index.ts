export { startGateway, addDownstreamReadinessChecks, type StartGatewayOptions, type RunningGateway } from './service.js';
export { loadGatewayConfig, type GatewayConfig } from './config.js';
export { buildGateway, API_PREFIX, type GatewayDeps, type GatewayInstance } from './server.js';
export { createGatewayClients, closeGatewayClients, DOWNSTREAMS, type Downstream, type GatewayClients } from './clients.js';
export { PROBLEM_CODES, HTTP_ONLY_PROBLEMS, problemType, type ProblemCode } from './problem.js';
