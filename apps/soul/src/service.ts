import { fileURLToPath } from 'node:url';
import { soul as pb } from '@jamey/proto';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKitOptions } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { createSoulHandlers } from './adapters/grpc/soul-handlers.js';
import { createPgSoulRepository } from './adapters/pg/soul-repository.js';
import { createSoulService } from './domain/soul-service.js';

/** The service's SQL migrations, beside `src/` and `dist/`. */
export const soulMigrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));

/** Builds the soul service on a kit and starts it. Used by `main.ts` and the embedded host. */
export async function startSoulService(options: Omit<ServiceKitOptions, 'migrationsDir'>): Promise<RunningService> {
  const kit = await createServiceKit({ ...options, migrationsDir: soulMigrationsDir });
  const service = createSoulService({
    db: kit.db,
    repository: createPgSoulRepository(kit.db),
    outbox: kit.outbox,
    clock: kit.clock,
    ids: kit.ids,
    onEventsCommitted: () => kit.relay.wake(),
  });
  kit.rpc.addService(GRPC_SERVICES.soul, pb.SoulServiceService, createSoulHandlers(service));
  return startServiceKit(kit);
}
