import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Postgres, for fault tests: `down()` cuts every connection and refuses
 * new ones (as a Postgres that crashed or restarts), `up()` accepts again on the same port. The
 * real server is never touched, so other test files sharing it are unaffected.
 */
export interface TcpProxy {
  readonly port: number;
  /** The database URL with its host and port replaced by the proxy's. */
  via(url: string): string;
  down(): Promise<void>;
  /** Refuses new connections but keeps the open ones: only what reconnects meets the fault. */
  refuseNew(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();
  const down = async (keepOpen = false) => {
    const closing = new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
    if (keepOpen) return;
    for (const socket of sockets) socket.destroy();
    await closing;
  };
  return {
    get port() {
      return port;
    },
    via(url: string) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    down: () => down(),
    refuseNew: () => down(true),
    // Already up: listening twice would fail and lose track of the listening server.
    up: () => (server === undefined ? listen() : Promise.resolve()),
    close: () => down(),
  };
}
