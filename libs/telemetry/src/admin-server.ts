import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Health } from './health.js';

/** Options for {@link startAdminServer}. */
export interface AdminServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly health: Health;
  readonly metrics: Registry;
  readonly logger: Logger;
}

/** A running admin HTTP server. */
export interface AdminServer {
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the admin HTTP server: `/healthz` (liveness), `/readyz` (readiness with every check
 * explained in the JSON body) and `/metrics` (Prometheus text format).
 *
 * `/readyz` answers 200 with status `ready`, or `degraded` when only optional checks fail, and
 * 503 `not ready` when a required check fails or the service is shutting down. Every check is
 * listed as `{ name, ok, required, error?, durationMs }`.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { health, metrics, logger } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    const json = (status: number, body: unknown): void => reply(status, 'application/json', JSON.stringify(body));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(405, { error: 'method not allowed' });
      return;
    }
    if (path === '/healthz') {
      // Draining in-flight work on shutdown is still serving: only readiness turns it away.
      const live = health.isLive();
      json(live ? 200 : 503, { status: !live ? 'not live' : health.shuttingDown ? 'draining' : 'ok' });
    } else if (path === '/readyz') {
      health.readiness().then(
        (report) =>
          json(report.ready ? 200 : 503, {
            status: !report.ready ? 'not ready' : report.degraded ? 'degraded' : 'ready',
            checks: report.checks,
          }),
        (error: unknown) => {
          logger.error({ err: error }, 'readiness failed');
          json(503, { status: 'not ready' });
        },
      );
    } else if (path === '/metrics') {
      metrics.metrics().then(
        (text) => reply(200, metrics.contentType, text),
        (error: unknown) => {
          logger.error({ err: error }, 'metrics collection failed');
          json(500, { error: 'metrics unavailable' });
        },
      );
    } else {
      json(404, { error: 'not found' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
