/**
 * Test helpers (`@jamey/cache/testing`): a TCP proxy that puts network faults between a client
 * and a real server (Redis, here), the way toxiproxy does, without stopping the shared server
 * other suites use. Not for production code.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A fault-injecting TCP proxy in front of one target. */
export interface TcpProxy {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Bytes clients sent towards the target (counted even while stalled). */
  readonly bytesFromClients: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Drops every connection and refuses new ones (ECONNREFUSED): the target looks down. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** Keeps connections open but holds what clients send: the target looks hung. */
  stall(): void;
  /** Forwards what was held and everything after it. */
  unstall(): void;
  close(): Promise<void>;
}

/** Starts a {@link TcpProxy} on 127.0.0.1 in front of `target` (`host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, portText] = [target.slice(0, target.lastIndexOf(':')), target.slice(target.lastIndexOf(':') + 1)];
  const targetPort = Number(portText);
  const sockets = new Set<Socket>();
  // Chunks held while stalled, in order, with the socket each is for.
  let held: [Socket, Buffer][] = [];
  let stalled = false;
  let bytesFromClients = 0;
  let connections = 0;

  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(targetPort, host);
    sockets.add(client);
    sockets.add(upstream);
    const destroyBoth = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      bytesFromClients += chunk.length;
      if (stalled) held.push([upstream, chunk]);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (stalled) held.push([client, chunk]);
      else client.write(chunk);
    });
    client.on('close', destroyBoth);
    upstream.on('close', destroyBoth);
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      held = [];
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });

  const port = await listen(0);
  return {
    port,
    get bytesFromClients() {
      return bytesFromClients;
    },
    get connections() {
      return connections;
    },
    cut: stopListening,
    async restore() {
      if (!server.listening) await listen(port);
    },
    stall() {
      stalled = true;
    },
    unstall() {
      stalled = false;
      for (const [socket, chunk] of held) if (!socket.destroyed) socket.write(chunk);
      held = [];
    },
    close: stopListening,
  };
}
