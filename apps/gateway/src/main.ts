import { loadConfig, z } from '@jamey/config';
import { exitOnSignals } from '@jamey/core';
import { createKafkaTransport } from '@jamey/events';
import { createServiceAuth, serviceKeySettingsFromEnv } from '@jamey/security';
import { kafkaEnvShape } from '@jamey/service';
import { createLogger, shutdownTelemetry } from '@jamey/telemetry';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './service.js';

const config = loadGatewayConfig(process.env);
// Access records reach audit through Kafka (`KAFKA_BROKERS`, required in this mode).
const { KAFKA_BROKERS: kafkaBrokers } = loadConfig(z.object(kafkaEnvShape), process.env);
const logger = createLogger({ service: 'gateway', level: config.logLevel });
// Every call to a service carries a service token; the services refuse calls without one.
const serviceAuth = await createServiceAuth('gateway', serviceKeySettingsFromEnv('gateway', process.env), {
  onKeyError: (error) => logger.warn({ err: error }, 'a rotated service key could not be used; the previous one stays in force'),
});
const transport = createKafkaTransport({ brokers: [...kafkaBrokers], clientId: 'gateway', logger });
// The kubelet sets KUBERNETES_SERVICE_HOST in every pod. Either way this is not embedded mode,
// so development keys are refused.
const mode = process.env['KUBERNETES_SERVICE_HOST'] ? 'kubernetes' : 'infrastructure';
const running = startGateway({ config, logger, serviceTokens: serviceAuth.minter, mode, transport });
// Handlers first, so a signal during start-up waits for it and still shuts down cleanly.
exitOnSignals(
  async () => {
    await (await running).stop();
    await transport.close();
    await shutdownTelemetry();
  },
  logger,
  config.shutdownGraceMs + 5000,
);
await running;
