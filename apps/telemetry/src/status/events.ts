import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@jamey/telemetry';
import type { StatusSnapshotJson } from './snapshot.js';

/** Options of {@link createSnapshotStream}. */
export interface SnapshotStreamOptions {
  /** Takes a snapshot; aborted when the stream closes. */
  readonly snapshot: (signal: AbortSignal) => Promise<StatusSnapshotJson>;
  readonly logger: Logger;
  /** Interval of the keep-alive comment, in milliseconds. Default 15000. */
  readonly heartbeatMs?: number;
  /** Connections served at once; more are answered 503. Default 100. */
  readonly maxClients?: number;
  /** A client whose unsent output grows past this many bytes is dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** Headers every response carries (the security headers). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The status page's Server-Sent Events stream (`text/event-stream`). */
export interface SnapshotStream {
  /** Takes over a GET request: a snapshot now, then one per {@link SnapshotStream.publish}. */
  accept(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Takes one snapshot and sends it to every client. Calls made while a snapshot is being taken
   * are folded into one more snapshot after it, so slow snapshots never pile up.
   */
  publish(): void;
  /** Clients connected now. */
  readonly clients: number;
  /** Ends every stream and stops the heartbeat. */
  close(): void;
}

interface Client {
  readonly res: ServerResponse;
  /** Sequence number of the newest snapshot this client has been sent. */
  seq: number;
}

/** A frame ready to send, numbered in the order its snapshot was started. */
interface Frame {
  readonly seq: number;
  readonly text: string;
}

/** Retry delay the browser's EventSource uses after a lost connection, in milliseconds. */
const RETRY_MS = 3000;

/**
 * Creates the stream. Each event is `event: snapshot` with the snapshot JSON on one `data:`
 * line (JSON.stringify never emits a raw newline), or `event: unavailable` when the snapshot
 * could not be taken. Comment lines keep idle proxies from closing the connection.
 */
export function createSnapshotStream(options: SnapshotStreamOptions): SnapshotStream {
  const { logger, headers = {} } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxClients = options.maxClients ?? 100;
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const clients = new Set<Client>();
  const closing = new AbortController();
  let seq = 0;
  let publishing: Promise<void> | undefined;
  let publishAgain = false;

  const drop = (client: Client): void => {
    clients.delete(client);
    client.res.destroy();
  };

  const write = (client: Client, text: string): void => {
    if (client.res.writableEnded || client.res.destroyed) return;
    client.res.write(text);
    // A client that does not read would otherwise make the server buffer without bound.
    if (client.res.writableLength > maxBufferedBytes) {
      logger.warn({ buffered: client.res.writableLength }, 'status page client too slow; dropping it');
      drop(client);
    }
  };

  const send = (client: Client, frame: Frame): void => {
    // A snapshot started before the one the client already has is older: skip it.
    if (frame.seq <= client.seq) return;
    client.seq = frame.seq;
    write(client, frame.text);
  };

  async function takeFrame(): Promise<Frame> {
    const frameSeq = ++seq;
    try {
      const snapshot = await options.snapshot(closing.signal);
      return { seq: frameSeq, text: `id: ${frameSeq}\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n` };
    } catch (error) {
      if (!closing.signal.aborted) logger.warn({ err: error }, 'status snapshot failed');
      const body = JSON.stringify({ message: 'telemetry could not read the current status; retrying on the next round' });
      return { seq: frameSeq, text: `event: unavailable\ndata: ${body}\n\n` };
    }
  }

  const heartbeat = setInterval(() => {
    for (const client of clients) write(client, ': heartbeat\n\n');
  }, heartbeatMs);
  heartbeat.unref();

  return {
    accept(req, res) {
      if (closing.signal.aborted || clients.size >= maxClients) {
        res.writeHead(503, { ...headers, 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '5' });
        res.end(JSON.stringify({ error: 'too many status page connections' }));
        return;
      }
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // Tells buffering reverse proxies (nginx) to pass events through at once.
        'x-accel-buffering': 'no',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const client: Client = { res, seq: 0 };
      clients.add(client);
      const forget = (): void => {
        clients.delete(client);
      };
      // The response, not the request: a request's 'close' may come as soon as its (empty) body
      // is read, while the response closes when the connection does.
      res.once('close', forget);
      res.once('error', forget);
      write(client, `retry: ${RETRY_MS}\n\n`);
      void takeFrame().then((frame) => {
        if (clients.has(client)) send(client, frame);
      });
    },

    publish() {
      if (clients.size === 0 || closing.signal.aborted) return;
      if (publishing) {
        publishAgain = true;
        return;
      }
      publishing = (async () => {
        do {
          publishAgain = false;
          const frame = await takeFrame();
          for (const client of clients) send(client, frame);
        } while (publishAgain && clients.size > 0 && !closing.signal.aborted);
      })().finally(() => {
        publishing = undefined;
      });
    },

    get clients() {
      return clients.size;
    },

    close() {
      closing.abort(new Error('status page closing'));
      clearInterval(heartbeat);
      for (const client of clients) client.res.end();
      clients.clear();
    },
  };
}
