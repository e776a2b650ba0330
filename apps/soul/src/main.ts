import { createKafkaTransport } from '@jamey/events';
import { loadServiceAuth, stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadSoulConfig } from './config.js';
import { startSoulService } from './service.js';

const config = loadSoulConfig(process.env);
const logger = createLogger({ service: 'soul', level: config.service.logLevel });
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'soul', logger });
const running = startSoulService({ settings: config.service, transport, logger, serviceAuth: await loadServiceAuth('soul', process.env, logger) });
// Handlers first, so a signal during start-up still shuts down cleanly.
stopOnSignals(running, transport, logger, config.service);
await running;
