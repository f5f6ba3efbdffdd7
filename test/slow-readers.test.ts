import { SLOW_READER_CLOSE_CODE } from '../src/realtime/slow-readers';
import { apiSuite } from './support/api-suite';
import { deafWebSocket, type DeafWebSocket, type Frame } from './support/deaf-websocket';
import { eventually } from './support/eventually';
import { insertJobs } from './support/fixtures';
import { scrape } from './support/prometheus';
import { rawSocket } from './support/ws-client';

/**
 * Clients that stop reading: 200 sockets subscribe, then never read again (their TCP stays
 * open, their buffers fill). Each is closed with 4413 once it has left more than
 * WS_SLOW_READER_BYTES unread for WS_SLOW_READER_MS, while another client's queries and a
 * reading subscriber are served throughout. Latency is not asserted here (see the report/bench).
 */
const SLOW_READERS = 200;
const ENV = { WS_SLOW_READER_BYTES: String(64 * 1024), WS_SLOW_READER_MS: '1000' };
const CLOSED = 'jobwatch_ws_slow_readers_closed_total';

const suite = apiSuite({ env: ENV, grants: [['admin', 'admin']] });
const sockets: DeafWebSocket[] = [];
suite.disposeFirst(() => {
  for (const socket of sockets) socket.destroy();
});

beforeAll(async () => {
  // 50 jobs of about 4 KB each: every snapshot is some 200 KB, over the limit.
  const jobs = await insertJobs(
    suite.db.pool,
    Array.from({ length: 50 }, (_, i) => ({ type: 'slow-reader', name: `job ${i}`, status: 'PENDING' as const })),
  );
  await suite.db.pool.query(`UPDATE jobs SET message = repeat('m', 4000) WHERE id = ANY($1::uuid[])`, [jobs.map((job) => job.id)]);
});

const SUBSCRIBE = JSON.stringify({
  id: '1',
  type: 'subscribe',
  payload: { query: 'subscription { jobUpdated(snapshot: 50) { id name message } }' },
});

/** A socket that subscribes, then stops reading. */
async function nonReader(): Promise<DeafWebSocket> {
  const socket = await deafWebSocket(suite.server.url);
  sockets.push(socket);
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${suite.admin}` } }));
  await socket.until((frame) => frame.opcode === 0x1 && frame.payload.toString().includes('connection_ack'));
  socket.send(SUBSCRIBE);
  socket.pause();
  return socket;
}

const closeCode = (frame: Frame) => frame.payload.readUInt16BE(0);

test(`${SLOW_READERS} sockets that stop reading are closed with ${SLOW_READER_CLOSE_CODE}; other clients are served throughout`, async () => {
  const base = suite.server.url.replace(/\/graphql$/, '');
  const closedBefore = (await scrape(base)).sum(CLOSED);

  // Another client: queries in a loop, and a subscriber that reads.
  const reader = rawSocket(suite.server.url);
  await reader.opened;
  reader.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${suite.admin}` } }));
  await eventually(() => reader.messages.some((message) => message['type'] === 'connection_ack'), Boolean);
  reader.socket.send(SUBSCRIBE);
  let stop = false;
  const outcomes: string[] = [];
  const traffic = (async () => {
    while (!stop) {
      const answer = await suite.server.gql<{ jobs: { nodes: unknown[] } }>(suite.admin, '{ jobs(first: 5) { nodes { id status } } }');
      outcomes.push(
        answer.status === 200 && answer.errors === undefined && answer.data?.jobs.nodes.length === 5
          ? 'ok'
          : JSON.stringify(answer).slice(0, 300),
      );
    }
  })();

  try {
    for (let i = 0; i < SLOW_READERS; i += 20) await Promise.all(Array.from({ length: 20 }, nonReader));
    await eventually(
      async () => (await scrape(base)).sum(CLOSED) - closedBefore,
      (closed) => closed >= SLOW_READERS,
      60_000,
      'the slow readers to be closed',
    );
    const servedWhileClosing = outcomes.length;

    // Reading again, each finds the close frame with its code behind what it had left unread, and the connection ends.
    for (const socket of sockets) socket.resume();
    const frames = await Promise.all(sockets.map((socket) => socket.until((frame) => frame.opcode === 0x8, 30_000)));
    expect(new Set(frames.map(closeCode))).toEqual(new Set([SLOW_READER_CLOSE_CODE]));
    expect(frames[0]!.payload.subarray(2).toString()).toMatch(/^Slow reader/);
    await Promise.all(sockets.map((socket) => socket.ended));

    // The others: the reader got its snapshot and is still open; every query was answered.
    await eventually(
      () => outcomes.length,
      (count) => count > servedWhileClosing,
    );
    await eventually(
      () => reader.messages.filter((message) => message['type'] === 'next').length,
      (count) => count >= 50,
      30_000,
      "the reader's snapshot",
    );
    expect(reader.messages.filter((message) => message['type'] === 'next')).toHaveLength(50);
    expect(reader.socket.readyState).toBe(reader.socket.OPEN);
    expect(outcomes.filter((outcome) => outcome !== 'ok')).toEqual([]);
    expect(servedWhileClosing).toBeGreaterThan(0);
    expect((await scrape(base)).sum(CLOSED) - closedBefore).toBe(SLOW_READERS);
  } finally {
    stop = true;
    await traffic;
    reader.socket.close(1000);
  }
}, 120_000);
