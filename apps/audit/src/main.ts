import { createKafkaTransport } from '@jamey/events';
import { loadServiceAuth, stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadAuditConfig } from './config.js';
import { startAuditService } from './service.js';

const config = loadAuditConfig(process.env);
const logger = createLogger({ service: 'audit', level: config.service.logLevel });
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'audit', logger });
const running = await startAuditService({
  settings: config.service, transport, logger, serviceAuth: await loadServiceAuth('audit', process.env, logger), replayFrom: config.replayFrom,
  consumerGroup: config.consumerGroup,
});
stopOnSignals(running, transport, logger, config.service);
