import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { processRegistry } from '../src/metrics/registry';
import { closeSlowReaders, SLOW_READER_CLOSE_CODE, type SlowReaderLimits } from '../src/realtime/slow-readers';

/**
 * closeSlowReaders' full-buffer rule, on one real WebSocket over loopback: a socket whose
 * messages wait because the client's buffers are full, and whose ping then goes unanswered for
 * `stalledMs`, is closed with 4413. The byte rule is out of the way (a limit of 1 GB), so only
 * the full-buffer rule can close anything here.
 *
 * Nothing here waits for a producer to outrun the client. The blocked state is built: the
 * server sends one message larger than everything the operating system can hold between the two
 * ends (the largest send buffer plus the largest receive buffer TCP may grow to), to a client
 * that has stopped reading, so that message cannot finish being written until the client reads.
 * And the rule's time is a fake clock (Date and the timers; the sockets are real), moved only
 * once the sockets are in the state each step is about, so a loaded machine can make the test
 * slower, never different. One more test runs the rule on the real clock.
 */

const STALLED_MS = 200;
const CUT_AFTER_MS = 1_000;
/** The byte rule never fires: far more than is ever sent here. */
const LIMITS: SlowReaderLimits = { maxUnreadBytes: 1_073_741_824, stalledMs: STALLED_MS, cutAfterMs: CUT_AFTER_MS };
const REASON = `Slow reader: messages unread for ${STALLED_MS} ms`;
const CLOSED = 'jobwatch_ws_slow_readers_closed_total';

/** The most a TCP socket's buffer of the given kind may grow to (Linux: the third number of tcp_wmem/tcp_rmem). */
function tcpBufferMax(kind: 'wmem' | 'rmem'): number {
  try {
    const max = Number(readFileSync(`/proc/sys/net/ipv4/tcp_${kind}`, 'utf8').trim().split(/\s+/)[2]);
    return Number.isSafeInteger(max) && max > 0 ? max : 32 * 1024 * 1024;
  } catch {
    return 32 * 1024 * 1024;
  }
}

/** Larger than what the server's send buffer and the client's receive buffer can hold together. */
const UNFITTING = Buffer.alloc(tcpBufferMax('wmem') + tcpBufferMax('rmem') + 8 * 1024 * 1024, 'x');

interface Connection {
  /** The server's end, as closeSlowReaders sees it. */
  readonly server: WebSocket;
  readonly client: WebSocket;
  /** The server's pings, as sent (closeSlowReaders' are the only ones here). */
  readonly pings: jest.SpyInstance;
  /** Sizes of the (binary) messages the client has read; readUpToNow's text markers are not among them. */
  readonly received: number[];
  /** Payloads of the pings the client has read (it answers each by itself). */
  readonly pingsRead: string[];
  readonly serverClosed: Promise<{ code: number; reason: string }>;
  readonly clientClosed: Promise<{ code: number; reason: string }>;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  jest.useRealTimers();
});

/** The rule's clock, faked: Date and the timers. Node's own I/O (and ws's nextTicks) stay real. */
function fakeClock(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
}

const closedOf = (emitter: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    emitter.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );

/** A WebSocketServer on loopback with closeSlowReaders attached as ws-server.ts does, and one client connected to it. */
async function connect(limits: SlowReaderLimits = LIMITS): Promise<Connection> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const stop = closeSlowReaders(wss, limits, pino({ level: 'silent' }));
  cleanups.push(
    () => new Promise((resolve) => wss.close(resolve)),
    () => {
      stop();
      for (const socket of wss.clients) socket.terminate();
    },
  );
  // Registered after closeSlowReaders' own listener: the server socket's send is already the counting one.
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
    perMessageDeflate: false,
    maxPayload: UNFITTING.length + 1024,
  });
  cleanups.push(() => client.terminate());
  client.on('error', () => undefined);
  const received: number[] = [];
  const pingsRead: string[] = [];
  client.on('message', (data: Buffer, isBinary: boolean) => isBinary && received.push(data.length));
  client.on('ping', (data: Buffer) => pingsRead.push(data.toString()));
  const clientClosed = closedOf(client);
  await new Promise((resolve) => client.once('open', resolve));
  const server = await accepted;
  server.on('error', () => undefined);
  return {
    server,
    client,
    pings: jest.spyOn(server, 'ping'),
    received,
    pingsRead,
    serverClosed: closedOf(server),
    clientClosed,
  };
}

/** Sends from the server; settles once ws has handed the whole message to the operating system. */
function send(connection: Connection, data: Buffer | string): { readonly written: Promise<void>; isWritten(): boolean } {
  let written = false;
  const promise = new Promise<void>((resolve, reject) =>
    connection.server.send(data, (error?: Error) => {
      if (error !== undefined && error !== null) return reject(error);
      written = true;
      resolve();
    }),
  );
  promise.catch(() => undefined);
  return { written: promise, isWritten: () => written };
}

/** The payload of the server's last ping. */
const lastPing = (connection: Connection) => String(connection.pings.mock.calls.at(-1)?.[0]);

/** Settles once the server has the client's answer to `payload`. */
const pong = (connection: Connection, payload: string) =>
  new Promise<void>((resolve) => {
    const onPong = (data: Buffer) => {
      if (data.toString() !== payload) return;
      connection.server.off('pong', onPong);
      resolve();
    };
    connection.server.on('pong', onPong);
  });

/** Settles once the client has read everything the server sent before now (TCP keeps order). */
async function readUpToNow(connection: Connection): Promise<void> {
  const marker = `marker ${Math.random()}`;
  const read = new Promise<void>((resolve) => {
    const onMessage = (data: Buffer) => {
      if (data.length !== marker.length || data.toString() !== marker) return;
      connection.client.off('message', onMessage);
      resolve();
    };
    connection.client.on('message', onMessage);
  });
  connection.server.send(marker);
  await read;
}

/** The rule decides a close once what arrived meanwhile is read (a setImmediate; not faked here): let it. */
const decided = () => new Promise<void>((resolve) => setImmediate(resolve));

const closedCount = async () => (await processRegistry.getSingleMetric(CLOSED)?.get())?.values[0]?.value ?? 0;

describe('on a fake clock', () => {
  beforeEach(fakeClock);

  test(`a socket whose buffers stay full and whose ping goes unanswered for stalledMs is closed with ${SLOW_READER_CLOSE_CODE}`, async () => {
    const connection = await connect();
    const closedBefore = await closedCount();
    connection.client.pause();
    const message = send(connection, UNFITTING);
    // By construction: the message cannot fit in the buffers, and the client reads nothing.
    expect(connection.server.bufferedAmount).toBeGreaterThan(0);

    // The ping goes out once the message has waited; a ping can only be late after stalledMs more.
    jest.advanceTimersByTime(STALLED_MS);
    await decided();
    expect(connection.pings).toHaveBeenCalledTimes(1);
    expect(connection.server.readyState).toBe(WebSocket.OPEN);
    jest.advanceTimersByTime(STALLED_MS);
    await decided();
    expect(connection.server.readyState).toBe(WebSocket.CLOSING);
    expect(message.isWritten()).toBe(false);
    expect(connection.pings).toHaveBeenCalledTimes(1);
    expect((await closedCount()) - closedBefore).toBe(1);

    // Reading again, the client finds the close frame behind what it had left unread: the message, then the ping.
    connection.client.resume();
    await expect(connection.clientClosed).resolves.toEqual({ code: SLOW_READER_CLOSE_CODE, reason: REASON });
    expect(connection.received).toEqual([UNFITTING.length]);
    expect(connection.pingsRead).toEqual([String(UNFITTING.length)]);
    await message.written;
    // The client echoed the code: the closing handshake completed.
    await expect(connection.serverClosed).resolves.toEqual({ code: SLOW_READER_CLOSE_CODE, reason: REASON });
  });

  test('a client that never reads again is cut cutAfterMs after the close frame, which cannot get out', async () => {
    const connection = await connect();
    connection.client.pause();
    send(connection, UNFITTING);
    const terminate = jest.spyOn(connection.server, 'terminate');
    jest.advanceTimersByTime(2 * STALLED_MS);
    await decided();
    expect(connection.server.readyState).toBe(WebSocket.CLOSING);

    // Closed after stalledMs (and by 2 × stalledMs): cut cutAfterMs after that.
    jest.advanceTimersByTime(CUT_AFTER_MS - STALLED_MS - 1);
    expect(terminate).not.toHaveBeenCalled();
    jest.advanceTimersByTime(STALLED_MS + 1);
    expect(terminate).toHaveBeenCalledTimes(1);
    // No closing handshake: the connection was cut (1006).
    await expect(connection.serverClosed).resolves.toEqual({ code: 1006, reason: '' });
  });

  test('a client that reads slowly, in bursts, but answers every ping within stalledMs is not closed', async () => {
    const connection = await connect();
    // The client stops reading each time it has read a ping; the test lets it read again less than stalledMs later.
    connection.client.on('ping', () => connection.client.pause());
    connection.client.pause();
    // As graphql-ws does: the next message once the last is with the operating system. Each cannot fit, so every
    // one of them leaves the socket blocked until the client has read most of it.
    const MESSAGES = 3;
    const messages: ReturnType<typeof send>[] = [];
    const sendNext = () => {
      const message = send(connection, UNFITTING);
      messages.push(message);
      void message.written.then(() => messages.length < MESSAGES && sendNext());
    };
    sendNext();

    let pings = 0;
    while (!messages.every((message) => message.isWritten()) || messages.length < MESSAGES) {
      // Blocked: a ping goes out within stalledMs / 2, and is answered (below) before stalledMs is over.
      jest.advanceTimersByTime(STALLED_MS / 2);
      await decided();
      expect(connection.pings).toHaveBeenCalledTimes(++pings);
      expect(connection.server.readyState).toBe(WebSocket.OPEN);
      const answered = pong(connection, lastPing(connection));
      connection.client.resume();
      await answered;
    }
    connection.client.resume();
    await readUpToNow(connection);
    expect(connection.received).toEqual(Array.from({ length: MESSAGES }, () => UNFITTING.length));
    expect(pings).toBeGreaterThanOrEqual(MESSAGES);

    // Long after: still open, and no longer pinged (nothing waits any more).
    jest.advanceTimersByTime(50 * STALLED_MS);
    await decided();
    expect(connection.server.readyState).toBe(WebSocket.OPEN);
    expect(connection.pings).toHaveBeenCalledTimes(pings);
  });

  test('a client that leaves messages unread while its buffers still have room is neither pinged nor closed', async () => {
    const connection = await connect();
    connection.client.pause();
    // 4 KB in all: room enough in any TCP buffers, so every one is with the operating system at once.
    const messages = Array.from({ length: 8 }, () => send(connection, Buffer.alloc(512, 'y')));
    await Promise.all(messages.map((message) => message.written));

    jest.advanceTimersByTime(50 * STALLED_MS);
    await decided();
    expect(connection.pings).not.toHaveBeenCalled();
    expect(connection.server.readyState).toBe(WebSocket.OPEN);
    connection.client.resume();
    await readUpToNow(connection);
    expect(connection.received).toHaveLength(8);
    expect(connection.pingsRead).toEqual([]);
  });
});

test('on the real clock too: a socket whose buffers stay full is closed with 4413', async () => {
  // cutAfterMs long: the client reads the close frame before the cut.
  const connection = await connect({ ...LIMITS, cutAfterMs: 120_000 });
  connection.client.pause();
  const message = send(connection, UNFITTING);
  const deadline = Date.now() + 30_000;
  while (connection.server.readyState === WebSocket.OPEN && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(connection.server.readyState).toBe(WebSocket.CLOSING);
  expect(message.isWritten()).toBe(false);
  connection.client.resume();
  await expect(connection.clientClosed).resolves.toEqual({ code: SLOW_READER_CLOSE_CODE, reason: REASON });
  expect(connection.received).toEqual([UNFITTING.length]);
});
