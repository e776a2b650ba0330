import { exitOnSignals } from '@jamey/core';
import { createLogger, shutdownTelemetry } from '@jamey/telemetry';
import { loadHostConfig } from './config.js';
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

const url = host.gatewayUrl;
process.stdout.write(
  [
    '',
    `Jamey is running (embedded mode, data in ${config.dataDir}/).`,
    `  API:  ${url}/v1   OpenAPI: ${url}/openapi.json   Docs: ${url}/docs`,
    `  Status page: ${host.statusUrl}`,
    '',
    'Try it:',
    `  curl -s -X POST ${url}/v1/memories -H 'content-type: application/json' -d '{"content":"Jamey met Ada at the lab"}'`,
    `  curl -s '${url}/v1/memories?query=Ada'`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'),
);
