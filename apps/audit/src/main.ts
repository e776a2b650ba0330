import { createKafkaTransport } from '@jamey/events';
import { loadServiceAuth, stopOnSignals } from '@jamey/service';
import { createLogger } from '@jamey/telemetry';
import { loadAuditConfig } from './config.js';
import { startAuditService } from './service.js';
import { loadAuditSigningKey } from './signing-key.js';

const config = loadAuditConfig(process.env);
const logger = createLogger({ service: 'audit', level: config.service.logLevel });
// The key that signs tree heads (AUDIT_SIGNING_KEY_FILE or AUDIT_SIGNING_KEY); without one the
// log could not prove anything, so audit refuses to start (the message names the variables).
const signingKey = await loadAuditSigningKey({ file: config.signingKeyFile, pem: process.env['AUDIT_SIGNING_KEY'] }, config.logOrigin).catch(
  (error: unknown) => {
    logger.fatal({ err: error }, 'audit cannot start');
    logger.flush();
    process.exit(1);
  },
);
const transport = createKafkaTransport({ brokers: [...config.kafkaBrokers], clientId: 'audit', logger });
const running = startAuditService({
  settings: config.service, transport, logger, serviceAuth: await loadServiceAuth('audit', process.env, logger), replayFrom: config.replayFrom,
  consumerGroup: config.consumerGroup,
  treeHeads: { key: signingKey, origin: config.logOrigin, intervalMs: config.treeHeadIntervalMs },
  retention: config.retentionDays === undefined ? undefined : { afterMs: config.retentionDays * 86_400_000, intervalMs: config.archiveIntervalMs },
});
// Handlers first, so a signal during start-up still shuts down cleanly.
stopOnSignals(running, transport, logger, config.service);
await running;
