import { combineObservers, type EventsObserver } from '@jamey/events';
import { audit as pb } from '@jamey/proto';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKitOptions } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { createAuditConsumer } from './adapters/events/audit-consumer.js';
import { createAuditHandlers } from './adapters/grpc/audit-handlers.js';
import { createPgAuditRepository } from './adapters/pg/audit-repository.js';
import { createAuditLog } from './domain/audit-log.js';
import { auditMigrationsDir } from './migrations.js';

export { auditMigrationsDir };

/** Options of {@link startAuditService}. */
export interface AuditServiceOptions extends Omit<ServiceKitOptions, 'migrationsDir'> {
  /** Replay every domain topic from this time on start (`AUDIT_REPLAY_FROM`; Kafka only). */
  readonly replayFrom?: Date | undefined;
  /** Consumer group (`AUDIT_CONSUMER_GROUP`). Default {@link AUDIT_GROUP_ID}. */
  readonly consumerGroup?: string | undefined;
  /** Told what the consumer does (consumed, duplicate, dead-lettered …), for metrics and tests. */
  readonly onEvent?: EventsObserver | undefined;
}

/** Builds the audit service on a kit and starts it. Used by `main.ts` and the embedded host. */
export async function startAuditService(options: AuditServiceOptions): Promise<RunningService> {
  const { replayFrom, onEvent, consumerGroup, ...kitOptions } = options;
  const kit = await createServiceKit({ ...kitOptions, migrationsDir: auditMigrationsDir });
  const log = createAuditLog({ repository: createPgAuditRepository(kit.db), clock: kit.clock });
  kit.rpc.addService(GRPC_SERVICES.audit, pb.AuditServiceService, createAuditHandlers(log));
  const consumer = createAuditConsumer({
    db: kit.db,
    transport: kit.transport,
    log,
    logger: kit.logger,
    clock: kit.clock,
    replayFrom,
    onEvent: combineObservers(kit.eventsObserver, onEvent),
    groupId: consumerGroup,
  });
  return startServiceKit(kit, [consumer]);
}
