import { fileURLToPath } from 'node:url';
import { memory as pb } from '@jamey/proto';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKitOptions } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { createMemoryHandlers } from './adapters/grpc/memory-handlers.js';
import { createPgMemoryRepository } from './adapters/pg/memory-repository.js';
import { createMemoryService } from './domain/memory-service.js';

/** The service's SQL migrations, beside `src/` and `dist/`. */
export const memoryMigrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));

/** Builds the memory service on a kit and starts it. Used by `main.ts` and the embedded host. */
export async function startMemoryService(options: Omit<ServiceKitOptions, 'migrationsDir'>): Promise<RunningService> {
  const kit = await createServiceKit({ ...options, migrationsDir: memoryMigrationsDir });
  const service = createMemoryService({
    db: kit.db,
    repository: createPgMemoryRepository(kit.db),
    outbox: kit.outbox,
    clock: kit.clock,
    ids: kit.ids,
    onEventsCommitted: () => kit.relay.wake(),
  });
  kit.rpc.addService(GRPC_SERVICES.memory, pb.MemoryServiceService, createMemoryHandlers(service));
  return startServiceKit(kit);
}
