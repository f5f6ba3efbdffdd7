import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Postgres that can hold back what Postgres sends to an instance's
 * LISTEN connection (the one whose startup names `application_name=jobwatch-listener`), as a
 * slow network link would: NOTIFY messages then reach the instance late, while its pool
 * queries go through untouched. `release()` delivers what was held, in order.
 */
export interface ListenerHoldProxy {
  /** The database URL with its host and port replaced by the proxy's. */
  via(url: string): string;
  hold(): void;
  release(): void;
  /** Resolves once some bytes for a listener are being held (a NOTIFY is in flight). */
  holding(): Promise<void>;
  close(): Promise<void>;
}

const LISTENER_MARK = Buffer.from('jobwatch-listener');

export async function startListenerHoldProxy(targetHost: string, targetPort: number): Promise<ListenerHoldProxy> {
  const sockets = new Set<Socket>();
  const releases = new Set<() => void>();
  const holdingWaiters = new Set<() => void>();
  let held = false;
  let heldChunks = 0;

  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let isListener = false;
    let queue: Buffer[] = [];
    client.on('data', (chunk: Buffer) => {
      // The startup message is the first thing a client sends; it names the application.
      if (chunk.includes(LISTENER_MARK)) isListener = true;
      upstream.write(chunk);
    });
    const flush = () => {
      for (const chunk of queue) client.write(chunk);
      queue = [];
    };
    releases.add(flush);
    upstream.on('data', (chunk: Buffer) => {
      if (isListener && held) {
        queue.push(chunk);
        heldChunks += 1;
        for (const waiter of [...holdingWaiters]) waiter();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => {
      releases.delete(flush);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    via(url: string) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    hold() {
      held = true;
    },
    release() {
      held = false;
      heldChunks = 0;
      for (const flush of releases) flush();
    },
    holding() {
      return new Promise<void>((resolve) => {
        if (heldChunks > 0) return resolve();
        const done = () => {
          holdingWaiters.delete(done);
          resolve();
        };
        holdingWaiters.add(done);
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
