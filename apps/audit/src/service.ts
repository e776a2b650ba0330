import { combineObservers, type EventsObserver } from '@jamey/events';
import { audit as pb } from '@jamey/proto';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKitOptions, type Worker } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { createAuditConsumer } from './adapters/events/audit-consumer.js';
import { createAuditHandlers } from './adapters/grpc/audit-handlers.js';
import { createLogHandlers } from './adapters/grpc/log-handlers.js';
import { backfillMerkleNodes, createPgAuditRepository, createPgMerkleStore } from './adapters/pg/audit-repository.js';
import { createPgTreeHeadStore } from './adapters/pg/tree-head-store.js';
import { createAuditLog } from './domain/audit-log.js';
import { createTreeHeadSigner, createTreeHeadWorker } from './domain/tree-heads.js';
import { createVerifiableLog } from './domain/verifiable-log.js';
import type { AuditSigningKey } from './signing-key.js';
import { auditMigrationsDir } from './migrations.js';
import { createRetentionWorker } from './retention.js';

export { auditMigrationsDir };

/** Options of {@link startAuditService}. */
export interface AuditServiceOptions extends Omit<ServiceKitOptions, 'migrationsDir'> {
  /** Replay every domain topic from this time on start (`AUDIT_REPLAY_FROM`; Kafka only). */
  readonly replayFrom?: Date | undefined;
  /** Consumer group (`AUDIT_CONSUMER_GROUP`). Default {@link AUDIT_GROUP_ID}. */
  readonly consumerGroup?: string | undefined;
  /** Told what the consumer does (consumed, duplicate, dead-lettered …), for metrics and tests. */
  readonly onEvent?: EventsObserver | undefined;
  /**
   * Signs tree heads of the verifiable log every `intervalMs` (when it grew) with `key` (see
   * `loadAuditSigningKey`). Absent: no tree heads are signed (the Merkle tree is still kept).
   */
  readonly treeHeads?: { readonly key: AuditSigningKey; readonly origin: string; readonly intervalMs: number } | undefined;
  /**
   * Moves records stored more than `afterMs` ago to the archive table every `intervalMs`
   * (`AUDIT_RETENTION_DAYS`). Absent: every record stays live.
   */
  readonly retention?: { readonly afterMs: number; readonly intervalMs: number } | undefined;
}

/** Builds the audit service on a kit and starts it. Used by `main.ts` and the embedded host. */
export async function startAuditService(options: AuditServiceOptions): Promise<RunningService> {
  const { replayFrom, onEvent, consumerGroup, treeHeads, retention, ...kitOptions } = options;
  const kit = await createServiceKit({ ...kitOptions, migrationsDir: auditMigrationsDir });
  const log = createAuditLog({ repository: createPgAuditRepository(kit.db), clock: kit.clock });
  // Records stored before the Merkle tree existed get their nodes before any new append.
  const backfilled = await backfillMerkleNodes(kit.db);
  if (backfilled > 0) kit.logger.info({ leaves: backfilled }, 'audit Merkle tree backfilled');
  const verifiable = createVerifiableLog(createPgMerkleStore(kit.db));
  const heads = createPgTreeHeadStore(kit.db);
  const info = treeHeads ? { verifierKey: treeHeads.key.verifierKey, origin: treeHeads.origin } : undefined;
  kit.rpc.addService(GRPC_SERVICES.audit, pb.AuditServiceService, {
    ...createAuditHandlers(log),
    ...createLogHandlers({ log: verifiable, heads, info }),
  });
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
  const workers: Worker[] = [consumer];
  if (treeHeads) {
    // The verifier key is public: logged so operators can hand it to whoever verifies the log.
    kit.logger.info({ verifierKey: treeHeads.key.verifierKey, origin: treeHeads.origin }, 'audit log verifier key');
    const signer = createTreeHeadSigner({
      log: verifiable,
      store: heads,
      origin: treeHeads.origin,
      privateKey: treeHeads.key.privateKey,
      clock: kit.clock,
    });
    workers.push(
      createTreeHeadWorker({
        signer,
        intervalMs: treeHeads.intervalMs,
        onError: (error) => kit.logger.warn({ err: error }, 'signing the audit tree head failed; retrying at the next interval'),
        onSigned: (head) => kit.logger.debug({ size: head.size }, 'audit tree head signed'),
      }),
    );
  }
  if (retention) {
    workers.push(
      createRetentionWorker({
        db: kit.db,
        clock: kit.clock,
        ...retention,
        onArchived: (count) => kit.logger.info({ count }, 'audit records archived'),
        onError: (error) => kit.logger.warn({ err: error }, 'archiving audit records failed; retrying at the next interval'),
      }),
    );
  }
  return startServiceKit(kit, workers);
}
