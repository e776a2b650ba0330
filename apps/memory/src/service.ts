import { fileURLToPath } from 'node:url';
import { createRedisClient } from '@jamey/cache';
import { memory as pb } from '@jamey/proto';
import { createServiceKit, startServiceKit, type RunningService, type ServiceKitOptions } from '@jamey/service';
import { GRPC_SERVICES } from '@jamey/topology';
import { createMemoryHandlers } from './adapters/grpc/memory-handlers.js';
import { createPgMemoryRepository } from './adapters/pg/memory-repository.js';
import { createMemoryCache, DEFAULT_MEMORY_CACHE_SETTINGS, type MemoryCacheSettings } from './adapters/redis/memory-cache.js';
import { createMemoryService } from './domain/memory-service.js';

/** The service's SQL migrations, beside `src/` and `dist/`. */
export const memoryMigrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));

/** Options of {@link startMemoryService}. */
export interface MemoryServiceOptions extends Omit<ServiceKitOptions, 'migrationsDir'> {
  /** Default {@link DEFAULT_MEMORY_CACHE_SETTINGS}. */
  readonly cache?: MemoryCacheSettings;
}

/** How long start-up waits for Redis before serving without it (it connects in the background). */
const REDIS_STARTUP_WAIT_MS = 1_000;

/**
 * Builds the memory service on a kit and starts it. Used by `main.ts` and the embedded host.
 * With `settings.redisUrl`, reads by id are cached in process and in Redis; without it, in
 * process only.
 */
export async function startMemoryService(options: MemoryServiceOptions): Promise<RunningService> {
  const kit = await createServiceKit({ ...options, migrationsDir: memoryMigrationsDir });
  const { redisUrl } = kit.settings;
  const redis = redisUrl
    ? createRedisClient({
        url: redisUrl,
        clock: kit.clock,
        random: kit.random,
        logger: kit.logger,
        name: 'memory',
        whenDown: 'memory reads are cached in process only and go to the database on a miss',
      })
    : undefined;
  if (redis) kit.addDependency('redis', redis.policies);
  const cache = createMemoryCache({
    settings: options.cache ?? DEFAULT_MEMORY_CACHE_SETTINGS,
    clock: kit.clock,
    logger: kit.logger,
    metrics: kit.metrics,
    redis,
  });
  const service = createMemoryService({
    db: kit.db,
    repository: createPgMemoryRepository(kit.db),
    outbox: kit.outbox,
    clock: kit.clock,
    ids: kit.ids,
    onEventsCommitted: () => kit.relay.wake(),
    cache,
  });
  kit.rpc.addService(GRPC_SERVICES.memory, pb.MemoryServiceService, createMemoryHandlers(service));
  const closeCache = async (): Promise<void> => {
    cache.close();
    await redis?.close();
  };
  try {
    if (redis && !(await redis.ready(REDIS_STARTUP_WAIT_MS))) {
      kit.logger.warn({ dependency: 'redis' }, 'redis is not reachable yet; serving with the in-process cache until it is');
    }
    // Stopped after in-flight calls have drained, before the database pool closes.
    return await startServiceKit(kit, [{ start: () => undefined, stop: closeCache }]);
  } catch (error) {
    await closeCache();
    throw error;
  }
}
