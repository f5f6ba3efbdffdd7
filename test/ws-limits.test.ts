import { atExpiry, closeAtExpiry, DEFAULT_WS_LIMITS } from '../src/realtime/ws-server';
import { deafWebSocket } from './support/deaf-websocket';
import { insertJobs } from './support/fixtures';
import { token } from './support/test-server';
import { rawSocket } from './support/ws-client';
import { WebSocket } from 'ws';
import { apiSuite } from './support/api-suite';

/**
 * The WebSocket endpoint's own limits and lifecycle: operations per connection, token expiry
 * however far off, and a shutdown that a client ignoring the close frame cannot hold up.
 */

const suite = apiSuite({ grants: [['admin', 'admin']] });

type Message = Record<string, unknown> & { id?: string; type?: string; payload?: unknown };

async function acknowledged(url: string) {
  const socket = rawSocket(url);
  await socket.opened;
  socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${suite.admin}` } }));
  await until(socket.messages, (messages) => messages.some((message) => message.type === 'connection_ack'));
  return socket;
}

/** Waits for the messages so far to satisfy `predicate` (messages arrive on the socket's own events). */
async function until(messages: Message[], predicate: (messages: Message[]) => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(messages)) {
    if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(messages).slice(0, 1000)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test(`${DEFAULT_WS_LIMITS.maxSubscriptionsPerConnection} operations at once per connection are served; the next one is RATE_LIMITED, and a slot freed is usable again`, async () => {
  const limit = DEFAULT_WS_LIMITS.maxSubscriptionsPerConnection;
  const [job] = await insertJobs(suite.db.pool, [{ type: 'ws-limit', status: 'PENDING' }]);
  const socket = await acknowledged(suite.server.url);
  const messages = socket.messages as Message[];
  const subscribe = (id: string) =>
    socket.socket.send(
      JSON.stringify({
        id,
        type: 'subscribe',
        payload: { query: 'subscription($id: ID!) { jobProgress(id: $id) { id } }', variables: { id: job!.id } },
      }),
    );
  const of = (id: string) => messages.filter((message) => message.id === id);
  try {
    // jobProgress sends the job's current state first: each live subscription answers once.
    for (let i = 1; i <= limit; i += 1) subscribe(String(i));
    await until(messages, () => Array.from({ length: limit }, (_, i) => of(String(i + 1)).length > 0).every(Boolean), 20_000);
    const answers = Array.from({ length: limit }, (_, i) => of(String(i + 1))[0]?.type);
    expect(answers.filter((type) => type !== 'next')).toEqual([]);

    subscribe('over');
    await until(messages, () => of('over').length > 0);
    expect(of('over')[0]).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'RATE_LIMITED' }, message: `At most ${limit} operations at once per connection` }],
    });

    // Completing one frees its slot.
    socket.socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    subscribe('again');
    await until(messages, () => of('again').length > 0);
    expect(of('again')[0]?.type).toBe('next');
  } finally {
    socket.socket.close(1000);
    await socket.closed;
  }
}, 30_000);

describe('token expiry', () => {
  test('fires at the expiry however many timer lengths away it is (re-armed, not cut short)', async () => {
    const started = Date.now();
    const fired: number[] = [];
    // A timer length of 20 ms stands for setTimeout's 24.8 days: the expiry is 10 lengths away.
    await new Promise<void>((resolve) => {
      atExpiry(
        started + 200,
        () => {
          fired.push(Date.now() - started);
          resolve();
        },
        20,
      );
    });
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(199);
  });

  test('an expiry already past fires at once; a cancelled one never', () => {
    // On a clock of the test's own: with real timers, a busy machine could run the expiry before
    // the cancel (a 5 ms pause taking more than 30 ms), and the test would fail for no fault.
    jest.useFakeTimers();
    try {
      let past = 0;
      atExpiry(Date.now() - 1, () => (past += 1));
      expect(past).toBe(1);
      let cancelled = 0;
      const cancel = atExpiry(Date.now() + 30, () => (cancelled += 1), 10);
      // Re-armed once (at 10 ms), not due yet: the cancel must reach the re-armed timer.
      jest.advanceTimersByTime(15);
      expect(cancelled).toBe(0);
      expect(jest.getTimerCount()).toBe(1);
      cancel();
      // Past the expiry, across re-arms: still nothing, and no timer left.
      jest.advanceTimersByTime(100);
      expect(cancelled).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
      // Uncancelled, the same expiry does fire (the clock above is one that can fire it).
      let fired = 0;
      atExpiry(Date.now() + 30, () => (fired += 1), 10);
      jest.advanceTimersByTime(30);
      expect(fired).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  test("a socket that closed while its token was checked gets no expiry timer (it would outlive the server by the token's lifetime)", () => {
    jest.useFakeTimers();
    try {
      const closes: string[] = [];
      const socket = (readyState: typeof WebSocket.CLOSED | typeof WebSocket.OPEN) => ({
        readyState,
        on: () => undefined as never,
        close: () => void closes.push('closed'),
      });
      expect(closeAtExpiry(socket(WebSocket.CLOSED), Date.now() + 3_600_000)).toBe(false);
      expect(jest.getTimerCount()).toBe(0);
      expect(closeAtExpiry(socket(WebSocket.OPEN), Date.now() + 3_600_000)).toBe(true);
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(3_600_000);
      expect(closes).toEqual(['closed']);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a token valid for 30 days (past setTimeout range) keeps its socket open', async () => {
    const longLived = await token('admin', { ttlSeconds: 30 * 86_400 });
    const socket = rawSocket(suite.server.url);
    await socket.opened;
    socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${longLived}` } }));
    await until(socket.messages, (messages) => messages.some((message) => message.type === 'connection_ack'));
    // The socket answers an operation after the ack: it was not closed as expired.
    socket.socket.send(JSON.stringify({ id: 'me', type: 'subscribe', payload: { query: '{ me { id } }' } }));
    await until(socket.messages, (messages) => messages.some((message) => message.id === 'me' && message.type === 'next'));
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    socket.socket.close(1000);
    expect((await socket.closed).code).toBe(1000);
  });
});

test('shutdown: a client that ignores the close frame gets 1001, then is cut after the grace, not after the close timeout', async () => {
  const own = await suite.startServer();
  const deaf = await deafWebSocket(own.url);
  let closed = false;
  try {
    deaf.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${suite.admin}` } }));
    await deaf.until((frame) => frame.opcode === 0x1 && frame.payload.toString().includes('connection_ack'));
    const started = Date.now();
    await own.close();
    closed = true;
    const elapsed = Date.now() - started;
    const close = deaf.frames.find((frame) => frame.opcode === 0x8);
    expect(close?.payload.readUInt16BE(0)).toBe(1001);
    // Without the cut, ws waits for the answer until its close timeout (30 s) or Apollo's drain
    // destroys the socket after its own grace (10 s).
    expect(elapsed).toBeGreaterThanOrEqual(DEFAULT_WS_LIMITS.closeGraceMs - 50);
    expect(elapsed).toBeLessThan(DEFAULT_WS_LIMITS.closeGraceMs + 5_000);
  } finally {
    deaf.destroy();
    if (!closed) await own.close();
  }
}, 20_000);
