import type { sendUnaryData, Server, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { ErrorLogger } from './status.js';

type ServingStatus = 'SERVING' | 'NOT_SERVING';
type WatchStatus = ServingStatus | 'SERVICE_UNKNOWN';
interface HealthRequest {
  service?: string;
}
interface HealthResponse {
  status: WatchStatus;
}

const NOT_FOUND = 5;

/** Options for {@link createHealthService}. */
export interface HealthServiceOptions {
  /**
   * Whether the service is ready, asked on every Check and while Watch streams are open. It
   * should be cheap or cached (the service kit passes readiness with a one-second cache). A
   * rejection counts as not ready. Absent: ready whenever serving.
   */
  readonly readiness?: () => Promise<boolean>;
  /** How often open Watch streams re-evaluate readiness, in ms. Default 5000. */
  readonly watchRefreshMs?: number;
  readonly logger: ErrorLogger;
}

/** `grpc.health.v1.Health` for one server, answering with readiness rather than a stored flag. */
export interface HealthService {
  /** Adds `grpc.health.v1.Health` to `server`. */
  addTo(server: Server): void;
  /** Makes `name` known to Check and Watch ('' is the whole server, known from the start). */
  register(name: string): void;
  /** Serving (after start-up) or not (before, and from the start of shutdown on). */
  setServing(serving: boolean): void;
  /** Tells every watcher NOT_SERVING and ends its stream, so a graceful shutdown need not wait for them. */
  closeWatches(): void;
}

/**
 * A `grpc.health.v1.Health` implementation whose status is the server's lifecycle (NOT_SERVING
 * until started and from the start of shutdown) combined with the service's readiness: a
 * service whose database is down answers NOT_SERVING, and SERVING again once it is back.
 * Every registered service shares the server's status. Watch streams get the current status at
 * once and every change after it.
 */
export function createHealthService(options: HealthServiceOptions): HealthService {
  const { readiness, logger } = options;
  const watchRefreshMs = options.watchRefreshMs ?? 5000;
  const names = new Set<string>(['']);
  const watchers = new Set<{ name: string; call: ServerWritableStream<HealthRequest, HealthResponse>; sent: WatchStatus | undefined }>();
  let serving = false;
  let status: ServingStatus = 'NOT_SERVING';
  let refresher: NodeJS.Timeout | undefined;

  async function evaluate(): Promise<ServingStatus> {
    if (!serving) return 'NOT_SERVING';
    if (!readiness) return 'SERVING';
    let ready: boolean;
    try {
      ready = await readiness();
    } catch (error) {
      logger.error({ err: error }, 'readiness evaluation failed');
      ready = false;
    }
    // Shutdown may have begun while readiness ran.
    return serving && ready ? 'SERVING' : 'NOT_SERVING';
  }

  function publish(next: ServingStatus): void {
    status = next;
    for (const watcher of watchers) {
      const current: WatchStatus = names.has(watcher.name) ? status : 'SERVICE_UNKNOWN';
      if (current === watcher.sent) continue;
      watcher.sent = current;
      watcher.call.write({ status: current });
    }
  }

  const refresh = (): Promise<ServingStatus> => evaluate().then((next) => (publish(next), next));

  function startRefresher(): void {
    if (refresher || watchers.size === 0) return;
    refresher = setInterval(() => void refresh(), watchRefreshMs);
    refresher.unref();
  }
  function stopRefresherWhenIdle(): void {
    if (watchers.size > 0 || !refresher) return;
    clearInterval(refresher);
    refresher = undefined;
  }

  return {
    addTo(server) {
      server.addService(healthService, {
        check: (call: ServerUnaryCall<HealthRequest, HealthResponse>, callback: sendUnaryData<HealthResponse>) => {
          const name = call.request.service ?? '';
          if (!names.has(name)) {
            callback({ code: NOT_FOUND, details: `health status unknown for service ${name}` });
            return;
          }
          void refresh().then((current) => callback(null, { status: current }));
        },
        watch: (call: ServerWritableStream<HealthRequest, HealthResponse>) => {
          const watcher = { name: call.request.service ?? '', call, sent: undefined as WatchStatus | undefined };
          watchers.add(watcher);
          call.on('cancelled', () => {
            watchers.delete(watcher);
            stopRefresherWhenIdle();
          });
          // The current status at once, then the freshly evaluated one if it differs.
          publish(status);
          startRefresher();
          void refresh();
        },
        list: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<{ statuses: Record<string, HealthResponse> }>) => {
          void refresh().then((current) =>
            callback(null, { statuses: Object.fromEntries([...names].map((name) => [name, { status: current }])) }),
          );
        },
      });
    },
    register(name) {
      names.add(name);
      publish(status);
    },
    setServing(next) {
      serving = next;
      if (next) void refresh();
      else publish('NOT_SERVING');
    },
    closeWatches() {
      serving = false;
      publish('NOT_SERVING');
      for (const watcher of watchers) watcher.call.end();
      watchers.clear();
      stopRefresherWhenIdle();
    },
  };
}
