import { exitOnSignals } from '@jamey/core';
import { createLogger, shutdownTelemetry } from '@jamey/telemetry';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './service.js';

const config = loadGatewayConfig(process.env);
const logger = createLogger({ service: 'gateway', level: config.logLevel });
const running = await startGateway({ config, logger });
exitOnSignals(
  async () => {
    await running.stop();
    await shutdownTelemetry();
  },
  logger,
  config.shutdownGraceMs + 5000,
);
