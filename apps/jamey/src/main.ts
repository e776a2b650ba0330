import { exitOnSignals } from '@jamey/core';
import { createLogger, shutdownTelemetry } from '@jamey/telemetry';
import { loadHostConfig } from './config.js';
import { startupBanner } from './banner.js';
import { startHost } from './host.js';

const config = loadHostConfig(process.env);
const logger = createLogger({ service: 'jamey', level: config.gateway.logLevel });
const host = await startHost(config, logger);
// Every service runs in this process, so spans are flushed once, after all of them stopped.
exitOnSignals(
  async () => {
    await host.stop();
    await shutdownTelemetry();
  },
  logger,
  config.gateway.shutdownGraceMs + 10_000,
);

process.stdout.write(startupBanner({ gatewayUrl: host.gatewayUrl, statusUrl: host.statusUrl, dataDir: config.dataDir }));
