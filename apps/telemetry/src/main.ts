import { createInProcessTransport } from '@jamey/events';
import { stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadTelemetryConfig } from './config.js';
import { startTelemetryService } from './service.js';

const config = loadTelemetryConfig(process.env);
const logger = createLogger({ service: 'telemetry', level: config.service.logLevel });
// Telemetry publishes and consumes no events yet, so its kit's relay gets the in-process bus
// and the process needs no Kafka. Alerts will move this to the Kafka transport.
const transport = createInProcessTransport();
const running = await startTelemetryService({
  settings: config.service,
  transport,
  logger,
  targets: config.targets,
  pollIntervalMs: config.pollIntervalMs,
  checkTimeoutMs: config.checkTimeoutMs,
  historyRetentionMs: config.historyRetentionMs,
});
stopOnSignals(running, transport, logger, config.service);
