import { createKafkaTransport } from '@jamey/events';
import { loadServiceAuth, stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadConsciousnessConfig } from './config.js';
import { startConsciousnessService } from './service.js';

const config = loadConsciousnessConfig(process.env);
const logger = createLogger({ service: 'consciousness', level: config.service.logLevel });
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'consciousness', logger });
const running = startConsciousnessService({
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
// Handlers first, so a signal during start-up still shuts down cleanly.
stopOnSignals(running, transport, logger, config.service);
await running;
