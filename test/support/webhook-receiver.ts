import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// The alert and notification tests import it from here.
export { eventually } from './eventually';

/**
 * A real HTTP receiver for webhook tests, on loopback. It records every request it gets (raw
 * body, headers) and answers as told, per path: 200, 500, hang (never answer until released or
 * closed), destroy the socket, or flood (200, then a body that never ends, until the client
 * hangs up). A path can be given a script (one behaviour per request, then the default).
 */
export type Behaviour = 'ok' | 'error500' | 'hang' | 'destroy' | 'flood';

export interface ReceivedRequest {
  readonly path: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as it arrived (what the signature covers). */
  readonly rawBody: string;
  readonly at: number;
  /** How the receiver answered it. */
  readonly behaviour: Behaviour;
  /** Whether the request is still waiting for an answer (hang). */
  hanging: boolean;
  /** Whether the connection of the answer is closed (for flood: the client hung up). */
  closed: boolean;
  /** Bytes of body written in answer (flood). */
  bytesSent: number;
}

export interface WebhookReceiver {
  readonly origin: string;
  /** The URL of a path on this receiver (e.g. url('/ok')). */
  url(path: string): string;
  readonly requests: ReceivedRequest[];
  /** Requests to one path. */
  to(path: string): ReceivedRequest[];
  /** Requests answered 2xx. */
  accepted(path?: string): ReceivedRequest[];
  /** How a path answers from now on: one behaviour, or a script followed by the default (ok). */
  behave(path: string, behaviour: Behaviour | Behaviour[], otherwise?: Behaviour): void;
  /** Answers every hanging request with `status` (or destroys them with 'destroy'). */
  release(how?: number | 'destroy'): void;
  /** Waits until the predicate holds over the requests (fails after the deadline). */
  until(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const scripts = new Map<string, { queue: Behaviour[]; otherwise: Behaviour }>();
  const hanging = new Set<{ request: ReceivedRequest; response: ServerResponse }>();

  const behaviourFor = (path: string): Behaviour => {
    const script = scripts.get(path);
    if (script === undefined) return 'ok';
    return script.queue.shift() ?? script.otherwise;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] as string;
      const behaviour = behaviourFor(path);
      const request: ReceivedRequest = {
        path,
        method: req.method ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        behaviour,
        hanging: behaviour === 'hang',
        closed: false,
        bytesSent: 0,
      };
      requests.push(request);
      res.on('close', () => (request.closed = true));
      switch (behaviour) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
          return;
        case 'error500':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
          return;
        case 'destroy':
          req.socket.destroy();
          return;
        case 'flood': {
          // Written as fast as the client reads it (backpressure), for as long as it reads.
          const chunk = Buffer.alloc(64 * 1024, 'x');
          res.writeHead(200, { 'content-type': 'text/plain' });
          const pour = () => {
            while (!res.destroyed && !res.writableEnded) {
              request.bytesSent += chunk.length;
              if (!res.write(chunk)) {
                res.once('drain', pour);
                return;
              }
            }
          };
          pour();
          return;
        }
        case 'hang': {
          const entry = { request, response: res };
          hanging.add(entry);
          res.on('close', () => {
            request.hanging = false;
            hanging.delete(entry);
          });
          return;
        }
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const receiver: WebhookReceiver = {
    origin,
    url: (path) => `${origin}${path}`,
    requests,
    to: (path) => requests.filter((request) => request.path === path),
    accepted: (path) =>
      requests.filter(
        (request) => (request.behaviour === 'ok' || request.behaviour === 'flood') && (path === undefined || request.path === path),
      ),
    behave(path, behaviour, otherwise = 'ok') {
      if (Array.isArray(behaviour)) scripts.set(path, { queue: [...behaviour], otherwise });
      else scripts.set(path, { queue: [], otherwise: behaviour });
    },
    release(how = 200) {
      for (const entry of [...hanging]) {
        entry.request.hanging = false;
        hanging.delete(entry);
        if (how === 'destroy') entry.response.socket?.destroy();
        else if (!entry.response.writableEnded && !entry.response.destroyed) entry.response.writeHead(how).end();
      }
    },
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(requests)) {
        if (Date.now() > deadline) {
          throw new Error(
            `receiver: timed out; got ${JSON.stringify(requests.map((r) => ({ path: r.path, behaviour: r.behaviour, body: r.rawBody.slice(0, 200) })))}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return requests;
    },
    async close() {
      receiver.release('destroy');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
