import { exitOnSignals } from '@jamey/core';
import { createServiceAuth, serviceKeySettingsFromEnv } from '@jamey/security';
import { createLogger, shutdownTelemetry } from '@jamey/telemetry';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './service.js';

const config = loadGatewayConfig(process.env);
const logger = createLogger({ service: 'gateway', level: config.logLevel });
// Every call to a service carries a service token; the services refuse calls without one.
const serviceAuth = await createServiceAuth('gateway', serviceKeySettingsFromEnv('gateway', process.env), {
  onKeyError: (error) => logger.warn({ err: error }, 'a rotated service key could not be used; the previous one stays in force'),
});
// The kubelet sets KUBERNETES_SERVICE_HOST in every pod. Either way this is not embedded mode,
// so development keys are refused.
const mode = process.env['KUBERNETES_SERVICE_HOST'] ? 'kubernetes' : 'infrastructure';
const running = await startGateway({ config, logger, serviceTokens: serviceAuth.minter, mode });
exitOnSignals(
  async () => {
    await running.stop();
    await shutdownTelemetry();
  },
  logger,
  config.shutdownGraceMs + 5000,
);
