import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@jamey/telemetry';
import { loadStatusAssets } from './assets.js';
import { createSnapshotStream } from './events.js';
import type { StatusSnapshotJson } from './snapshot.js';

/** Options of {@link startStatusServer}. */
export interface StatusServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Takes a snapshot of everything the page shows. */
  readonly snapshot: (signal: AbortSignal) => Promise<StatusSnapshotJson>;
  readonly logger: Logger;
  /** Interval of the SSE keep-alive comment, in milliseconds. Default 15000. */
  readonly heartbeatMs?: number;
  /** SSE connections served at once. Default 100. */
  readonly maxClients?: number;
}

/** The running status page. */
export interface StatusServer {
  /** The port actually bound. */
  readonly port: number;
  /** Sends a fresh snapshot to every connected page; called after each polling round. */
  publish(): void;
  /** Pages connected over SSE now. */
  readonly clients: number;
  /** Ends every stream and closes the server. */
  close(): Promise<void>;
}

/**
 * Headers on every response. The CSP allows only this origin's own scripts, styles, images and
 * connections: no inline script or style, no framing, no plugins.
 */
export const STATUS_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/**
 * Starts the status page's HTTP server:
 * - `GET /`: the page, and its script, styles and uPlot under `/status.js`, `/status.css`, `/vendor/`;
 * - `GET /api/status`: one snapshot as JSON (503 when it cannot be taken);
 * - `GET /api/events`: Server-Sent Events, a snapshot on connect and one per polling round.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const { logger } = options;
  const assets = await loadStatusAssets();
  const closing = new AbortController();
  const stream = createSnapshotStream({
    snapshot: options.snapshot,
    logger,
    headers: STATUS_SECURITY_HEADERS,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.maxClients !== undefined ? { maxClients: options.maxClients } : {}),
  });

  const reply = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...STATUS_SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const json = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown, extra?: Record<string, string>): void =>
    reply(req, res, status, 'application/json', JSON.stringify(body), { 'cache-control': 'no-store', ...extra });

  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(req, res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://status.invalid').pathname;
    } catch {
      json(req, res, 400, { error: 'bad request target' });
      return;
    }
    if (path === '/index.html') path = '/';
    const asset = assets.get(path);
    if (asset) {
      // Revalidated on every visit, so a new version of the page is never mixed with an old script.
      reply(req, res, 200, asset.contentType, asset.body, { 'cache-control': 'no-cache' });
    } else if (path === '/api/events') {
      stream.accept(req, res);
    } else if (path === '/api/status') {
      options.snapshot(closing.signal).then(
        (snapshot) => json(req, res, 200, snapshot),
        (error: unknown) => {
          if (!closing.signal.aborted) logger.warn({ err: error }, 'status snapshot failed');
          json(req, res, 503, { error: 'telemetry could not read the current status' }, { 'retry-after': '5' });
        },
      );
    } else {
      json(req, res, 404, { error: 'not found' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    port,
    publish: () => stream.publish(),
    get clients() {
      return stream.clients;
    },
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        closing.abort(new Error('status page closing'));
        stream.close();
        server.close(() => resolve());
        // Open streams and idle keep-alive sockets would otherwise hold close() forever.
        server.closeAllConnections();
      })),
  };
}
