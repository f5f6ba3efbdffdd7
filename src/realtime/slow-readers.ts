import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { WebSocket, type WebSocketServer } from 'ws';
import { processRegistry } from '../metrics/registry';

/** The close code of a socket closed for not reading: retryable (graphql-ws clients reconnect). */
export const SLOW_READER_CLOSE_CODE = 4413;

export interface SlowReaderLimits {
  /** Bytes sent to a client that it may leave unread for `stalledMs` (WS_SLOW_READER_BYTES). */
  readonly maxUnreadBytes: number;
  /** WS_SLOW_READER_MS. */
  readonly stalledMs: number;
  /** After the close frame, a socket still open this long is cut (the frame waits behind what the client left unread). */
  readonly cutAfterMs: number;
}

const closedSlowReaders = new Counter({
  name: 'jobwatch_ws_slow_readers_closed_total',
  help: `WebSockets closed (${SLOW_READER_CLOSE_CODE}) because their client stopped reading`,
  registers: [processRegistry],
});

interface Reading {
  /** Bytes of messages sent to the socket so far. */
  sent: number;
  /** Bytes the client has surely read: those sent before the last ping it answered. */
  read: number;
  /** The ping it has not answered yet: when it was sent, and `sent` then. */
  ping: { readonly at: number; readonly sent: number } | undefined;
  /** Messages handed to the socket that have not reached the operating system yet. */
  unwritten: number;
  /** Since when none of them has (undefined: none is waiting). */
  blockedSince: number | undefined;
}

const READING = Symbol('jobwatch.slowReaderReading');

type Watched = WebSocket & { [READING]?: Reading };

/**
 * Each socket's send: counts what it sends and what waits unwritten, then sends. One function
 * for every socket, as onPong (a closure and a bound send per socket were about 250 bytes each,
 * thousands of sockets at once).
 */
function countingSend(this: Watched, data: unknown, ...rest: unknown[]): void {
  const reading = this[READING] as Reading;
  reading.sent += typeof data === 'string' ? Buffer.byteLength(data) : ((data as { byteLength?: number }).byteLength ?? 0);
  // ws calls a send's callback once its bytes are with the operating system: until then it waits behind the client.
  const callback = typeof rest.at(-1) === 'function' ? (rest.pop() as (error?: Error) => void) : undefined;
  reading.unwritten += 1;
  reading.blockedSince ??= Date.now();
  (WebSocket.prototype.send as (data: unknown, ...rest: unknown[]) => void).call(this, data, ...rest, (error?: Error) => {
    reading.unwritten -= 1;
    reading.blockedSince = reading.unwritten > 0 ? Date.now() : undefined;
    callback?.(error);
  });
}

/** Our pings carry the count they were sent at: graphql-ws's keep-alive pongs do not count. */
function onPong(this: Watched, data: Buffer): void {
  const reading = this[READING];
  if (reading?.ping === undefined || data.toString() !== String(reading.ping.sent)) return;
  reading.read = reading.ping.sent;
  reading.ping = undefined;
}

/**
 * Closes the sockets of clients that stopped reading. What a server has sent but the client has
 * not read sits mostly in the operating systems' buffers (megabytes per connection), out of the
 * server's sight, so it is measured with pings: a client answers a ping only once it has read
 * everything sent before it. A socket with more than `maxUnreadBytes` unread, or whose messages
 * wait because its buffers are full (the server then sends no more, so the buffers' size, often
 * less than the limit, bounds what is unread), and whose ping has gone unanswered for
 * `stalledMs`, is closed with 4413 and cut `cutAfterMs` later. Such a client
 * costs everyone else time (its events are still resolved for it) and its view is stale anyway;
 * a client on a slow link keeps reading and answering, and idle sockets are never pinged here
 * (graphql-ws's keep-alive looks after them). Answers how to stop.
 */
export function closeSlowReaders(wss: WebSocketServer, limits: SlowReaderLimits, log: Logger): () => void {
  const onConnection = (socket: Watched) => {
    socket[READING] = { sent: 0, read: 0, ping: undefined, unwritten: 0, blockedSince: undefined };
    socket.send = countingSend as typeof socket.send;
    socket.on('pong', onPong);
  };
  wss.on('connection', onConnection);

  const checkEveryMs = Math.max(10, Math.min(1_000, Math.floor(limits.stalledMs / 4)));
  const timer = setInterval(() => {
    const now = Date.now();
    for (const socket of wss.clients as Set<Watched>) {
      const reading = socket[READING];
      if (reading === undefined || socket.readyState !== socket.OPEN) continue;
      // Behind: more than the limit unread, or a message waiting for the client's buffers (full: the server sends no
      // more until they drain, so their size, not the limit, bounds what is unread).
      const blocked = reading.blockedSince !== undefined && now - reading.blockedSince >= checkEveryMs;
      if (reading.sent - reading.read <= limits.maxUnreadBytes && !blocked) continue;
      if (reading.ping === undefined) {
        reading.ping = { at: now, sent: reading.sent };
        socket.ping(String(reading.sent));
        continue;
      }
      if (now - reading.ping.at < limits.stalledMs) continue;
      // Timers run before the sockets are read: after a stall of the event loop, the pong may have arrived
      // unread. Decided once what has arrived is read (setImmediate runs after the poll phase).
      const ping = reading.ping;
      setImmediate(() => {
        if (reading.ping !== ping || socket.readyState !== socket.OPEN) return;
        closeSlowReader(socket, reading, Date.now() - ping.at);
      });
    }
  }, checkEveryMs);
  const closeSlowReader = (socket: WebSocket, reading: Reading, stalledMs: number) => {
    closedSlowReaders.inc();
    log.warn({ unreadBytes: reading.sent - reading.read, stalledMs }, 'a WebSocket client stopped reading: closed (4413)');
    socket.close(SLOW_READER_CLOSE_CODE, `Slow reader: messages unread for ${limits.stalledMs} ms`);
    const cut = setTimeout(() => socket.terminate(), limits.cutAfterMs);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  };
  timer.unref();
  return () => {
    clearInterval(timer);
    wss.off('connection', onConnection);
  };
}
