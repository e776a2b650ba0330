import { createKafkaTransport } from '@jamey/events';
import { loadServiceAuth, stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadMemoryConfig } from './config.js';
import { startMemoryService } from './service.js';

const config = loadMemoryConfig(process.env);
const logger = createLogger({ service: 'memory', level: config.service.logLevel });
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'memory', logger });
const running = startMemoryService({ settings: config.service, transport, logger, serviceAuth: await loadServiceAuth('memory', process.env, logger), cache: config.cache });
// Handlers first, so a signal during start-up still shuts down cleanly.
stopOnSignals(running, transport, logger, config.service);
await running;
