import { exitOnSignals } from '@jamey/core';
import { createLogger, shutdownTelemetry } from '@jamey/telemetry';
import { loadHostConfig } from './config.js';
import { startupBanner } from './banner.js';
import { startHost } from './host.js';

const config = loadHostConfig(process.env);
const logger = createLogger({ service: 'jamey', level: config.gateway.logLevel });
const starting = startHost(config, logger);
// Handlers first, so Ctrl+C during start-up waits for it and still shuts down cleanly. Every
// service runs in this process, so spans are flushed once, after all of them stopped.
exitOnSignals(
  async () => {
    await (await starting).stop();
    await shutdownTelemetry();
  },
  logger,
  config.gateway.shutdownGraceMs + 10_000,
);

const host = await starting;
process.stdout.write(startupBanner({ gatewayUrl: host.gatewayUrl, statusUrl: host.statusUrl, dataDir: config.dataDir }));
