import { createKafkaTransport } from '@jamey/events';
import { loadServiceAuth, stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadConsciousnessConfig } from './config.js';
import { startConsciousnessService } from './service.js';

const config = loadConsciousnessConfig(process.env);
const logger = createLogger({ service: 'consciousness', level: config.service.logLevel });
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'consciousness', logger });
const running = await startConsciousnessService({
  settings: config.service,
  transport,
  logger,
  serviceAuth: await loadServiceAuth('consciousness', process.env, logger),
  memoryAddress: config.memoryAddress,
  soulAddress: config.soulAddress,
  dependencyBudgetMs: config.dependencyBudgetMs,
  rpcRetries: config.rpcRetries,
  phiIntervalMs: config.phiIntervalMs,
});
stopOnSignals(running, transport, logger, config.service);
