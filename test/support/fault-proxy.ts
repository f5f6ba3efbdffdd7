import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Postgres for fault tests. The real server is never touched, so other
 * test files sharing it are unaffected. Its faults:
 * - `down()` cuts every connection and refuses new ones (a Postgres that crashed or restarts);
 * - `reset()` resets every connection (a TCP RST each way, as a crashed host or a firewall would:
 *   no goodbye from Postgres) and refuses new ones;
 * - `refuseNew()` keeps the connections it has but accepts no new one: only what reconnects meets
 *   the fault (an instance whose LISTEN connection was killed cannot come back);
 * - `stall()` makes the connections it has go silent without closing (a peer that died without a
 *   word, a cut network): nothing passes either way, nothing fails; new connections work;
 * - `holdListener()` holds back what Postgres sends to an instance's LISTEN connection (the one
 *   whose startup names `application_name=jobwatch-listener`), as a slow link would: NOTIFY
 *   messages reach the instance late while its pool queries go through; `releaseListener()`
 *   delivers what was held, in order.
 * `up()` accepts again on the same port.
 */
export interface FaultProxy {
  readonly port: number;
  /** The database URL with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** The local ports of the proxy's connections to Postgres: `client_port` in pg_stat_activity. */
  upstreamPorts(): number[];
  down(): Promise<void>;
  reset(): Promise<void>;
  refuseNew(): Promise<void>;
  stall(): void;
  holdListener(): void;
  releaseListener(): void;
  /** Resolves once some bytes for a listener are being held (a NOTIFY is in flight). */
  holdingListener(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  stalled: boolean;
  isListener: boolean;
  /** What Postgres sent a held listener, not yet delivered. */
  held: Buffer[];
}

const LISTENER_MARK = Buffer.from('jobwatch-listener');

/** A proxy to the host and port of `targetUrl` (a Postgres URL). */
export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname === 'localhost' ? '127.0.0.1' : target.hostname;
  const targetPort = Number(target.port || 5432);
  const pairs = new Set<Pair>();
  const holdingWaiters = new Set<() => void>();
  let holdingListener = false;
  let heldChunks = 0;
  let server: Server | undefined;
  let port = 0;

  const deliver = (pair: Pair) => {
    for (const chunk of pair.held) pair.client.write(chunk);
    pair.held = [];
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        const pair: Pair = { client, upstream, stalled: false, isListener: false, held: [] };
        pairs.add(pair);
        for (const socket of [client, upstream]) socket.on('error', () => undefined);
        client.on('data', (chunk: Buffer) => {
          if (pair.stalled) return;
          // The startup message is the first thing a client sends; it names the application.
          if (chunk.includes(LISTENER_MARK)) pair.isListener = true;
          upstream.write(chunk);
        });
        upstream.on('data', (chunk: Buffer) => {
          if (pair.stalled) return;
          if (pair.isListener && holdingListener) {
            pair.held.push(chunk);
            heldChunks += 1;
            for (const waiter of [...holdingWaiters]) waiter();
            return;
          }
          client.write(chunk);
        });
        client.on('close', () => {
          upstream.destroy();
          pairs.delete(pair);
        });
        upstream.on('close', () => {
          if (!pair.stalled) client.destroy();
        });
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();

  // close() stops listening at once; its callback waits for the connections kept open.
  const stopListening = () => {
    const closing = new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
    return closing;
  };
  const cut = async (how: 'destroy' | 'reset') => {
    const closing = stopListening();
    for (const { client, upstream } of pairs) {
      for (const socket of [client, upstream]) {
        if (how === 'reset') socket.resetAndDestroy();
        else socket.destroy();
      }
    }
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
    upstreamPorts: () => [...pairs].map((pair) => pair.upstream.localPort).filter((local): local is number => local !== undefined),
    down: () => cut('destroy'),
    reset: () => cut('reset'),
    refuseNew: async () => {
      void stopListening();
    },
    stall() {
      for (const pair of pairs) pair.stalled = true;
    },
    holdListener() {
      holdingListener = true;
    },
    releaseListener() {
      holdingListener = false;
      heldChunks = 0;
      for (const pair of pairs) deliver(pair);
    },
    holdingListener() {
      return new Promise<void>((resolve) => {
        if (heldChunks > 0) return resolve();
        const done = () => {
          holdingWaiters.delete(done);
          resolve();
        };
        holdingWaiters.add(done);
      });
    },
    // Already up: listening twice would fail and lose track of the listening server.
    up: () => (server === undefined ? listen() : Promise.resolve()),
    close: () => cut('destroy'),
  };
}
