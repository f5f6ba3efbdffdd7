import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Postgres with finer faults than tcp-proxy.ts, for the realtime tests:
 * `refuseNew()` keeps the connections it has but accepts no new one (an instance whose LISTEN
 * connection was killed cannot come back until `acceptNew()`); `stall()` makes the connections
 * it has go silent without closing (a peer that died without a word, a cut network): nothing
 * passes either way, nothing fails. New connections after a stall work normally.
 */
export interface GatedProxy {
  via(url: string): string;
  /** The local ports of the proxy's connections to Postgres: `client_port` in pg_stat_activity. */
  upstreamPorts(): number[];
  refuseNew(): Promise<void>;
  acceptNew(): Promise<void>;
  stall(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  stalled: boolean;
}

export async function startGatedProxy(targetUrl: string): Promise<GatedProxy> {
  const target = new URL(targetUrl);
  const targetHost = target.hostname === 'localhost' ? '127.0.0.1' : target.hostname;
  const targetPort = Number(target.port || 5432);
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        const pair: Pair = { client, upstream, stalled: false };
        pairs.add(pair);
        for (const socket of [client, upstream]) socket.on('error', () => undefined);
        client.on('data', (data) => (pair.stalled ? undefined : upstream.write(data)));
        upstream.on('data', (data) => (pair.stalled ? undefined : client.write(data)));
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
  // close() stops listening at once; its callback would wait for the connections kept open.
  const refuseNew = async () => {
    server?.close();
    server = undefined;
  };
  return {
    via(url: string) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    upstreamPorts: () => [...pairs].map((pair) => pair.upstream.localPort).filter((local): local is number => local !== undefined),
    refuseNew,
    acceptNew: () => (server === undefined ? listen() : Promise.resolve()),
    stall() {
      for (const pair of pairs) pair.stalled = true;
    },
    async close() {
      const closing = refuseNew();
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await closing;
    },
  };
}
