import { createKafkaTransport } from '@jamey/events';
import { loadServiceAuth, stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadAlertRules } from './adapters/rules-file.js';
import { loadTelemetryConfig } from './config.js';
import { startTelemetryService } from './service.js';

const config = loadTelemetryConfig(process.env);
const logger = createLogger({ service: 'telemetry', level: config.service.logLevel });
// Alerts leave through the outbox onto jamey.telemetry.events.v1, which audit consumes.
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'telemetry', logger });
const running = startTelemetryService({
  settings: config.service,
  transport,
  logger,
  serviceAuth: await loadServiceAuth('telemetry', process.env, logger),
  targets: config.targets,
  pollIntervalMs: config.pollIntervalMs,
  checkTimeoutMs: config.checkTimeoutMs,
  historyRetentionMs: config.historyRetentionMs,
  scrapeTimeoutMs: config.scrapeTimeoutMs,
  historyIntervalMs: config.historyIntervalMs,
  sampleStalenessMs: config.sampleStalenessMs,
  alertRules: loadAlertRules(config.alerting.rulesFile),
  alertWebhookUrl: config.alerting.webhookUrl,
  alertWebhookTimeoutMs: config.alerting.webhookTimeoutMs,
  statusPort: config.statusPort,
});
// Handlers first, so a signal during start-up still shuts down cleanly.
stopOnSignals(running, transport, logger, config.service);
await running;
