import { createKafkaTransport } from '@jamey/events';
import { exitOnSignals } from '@jamey/core';
import { createLogger } from '@jamey/telemetry';
import { loadAuditConfig } from './config.js';
import { startAuditService } from './service.js';

const config = loadAuditConfig(process.env);
const logger = createLogger({ service: 'audit', level: config.service.logLevel });
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'audit', logger });
const running = await startAuditService({
  settings: config.service, transport, logger, replayFrom: config.replayFrom,
  consumerGroup: config.consumerGroup,
});
exitOnSignals(
  async () => {
    await running.stop();
    await transport.close();
  },
  logger,
  config.service.shutdownGraceMs + 5000,
);
