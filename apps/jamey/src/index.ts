export { startHost, type RunningHost } from './host.js';
export { loadHostConfig, type HostConfig } from './config.js';
