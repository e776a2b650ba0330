import type { Clock } from '@jamey/core';
import type { Worker } from '@jamey/service';
import type { Logger } from '@jamey/telemetry';
import { startStatusServer, type StatusServer } from './server.js';
import { createStatusSnapshots, type StatusSources } from './snapshot.js';

/** Options of {@link createStatusPage}. */
export interface StatusPageOptions {
  readonly host: string;
  /** `TELEMETRY_STATUS_PORT`; 0 picks a free port. */
  readonly port: number;
  readonly sources: StatusSources;
  readonly clock: Clock;
  readonly logger: Logger;
  /** History shown in the charts, in milliseconds. Default 30 minutes. */
  readonly windowMs?: number;
  /** Interval of the SSE keep-alive comment, in milliseconds. Default 15000. */
  readonly heartbeatMs?: number;
}

/** The status page as a service worker: it listens on start and closes on stop. */
export interface StatusPage extends Worker {
  /** The bound port, once started. */
  readonly port: number | undefined;
  /** Pushes a fresh snapshot to every open page; call after each polling round. */
  publish(): void;
}

/** Creates the status page worker. Nothing listens until `start()`. */
export function createStatusPage(options: StatusPageOptions): StatusPage {
  const snapshot = createStatusSnapshots({
    sources: options.sources,
    clock: options.clock,
    ...(options.windowMs !== undefined ? { windowMs: options.windowMs } : {}),
  });
  let server: StatusServer | undefined;
  return {
    get port() {
      return server?.port;
    },
    async start() {
      server ??= await startStatusServer({
        host: options.host,
        port: options.port,
        snapshot,
        logger: options.logger,
        ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      });
      options.logger.info({ port: server.port }, `status page at http://${options.host}:${server.port}/`);
    },
    publish() {
      server?.publish();
    },
    async stop() {
      await server?.close();
    },
  };
}
