import { CoalescingStream } from '../src/realtime/coalescing-stream';
import { random } from './support/random';

/**
 * The stream behind jobProgress: coalesces per key, and sends at most one value per interval on
 * average. A value arriving at the pace of the interval (a progress flush every
 * PROGRESS_FLUSH_MS) must go out at once, not wait for the rest of an interval it happened to
 * fall into; a flood must still be held to the pace.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function drain<T>(stream: CoalescingStream<T>, sink: (value: T) => void): Promise<void> {
  for (;;) {
    const result = await stream.next();
    if (result.done === true) return;
    sink(result.value);
  }
}

test('values at the pace of the interval, with jitter, go out without waiting', async () => {
  const interval = 40;
  const stream = new CoalescingStream<number>(() => undefined, { minIntervalMs: interval });
  const delays: number[] = [];
  const pushedAt = new Map<number, number>();
  const done = drain(stream, (value) => delays.push(Date.now() - (pushedAt.get(value) as number)));
  const jitter = random(7);
  let next = Date.now();
  for (let value = 0; value < 60; value += 1) {
    // A little early or a little late, as timers are: with a window that restarts at each send,
    // the lateness is a random walk that settles anywhere up to a whole interval behind.
    next += interval + Math.round((jitter.next() - 0.5) * 24);
    await sleep(Math.max(0, next - Date.now()));
    pushedAt.set(value, Date.now());
    stream.push('job', value);
  }
  await sleep(interval * 2);
  stream.end();
  await done;
  expect(delays).toHaveLength(60);
  const sorted = [...delays].sort((a, b) => a - b);
  // A fixed-window throttle at the same pace settles into waiting up to a whole interval.
  expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(interval / 4);
  expect(sorted[sorted.length - 2]).toBeLessThan(interval / 2);
});

test('a flood is held to one value per interval on average, and the last one always comes out', async () => {
  const interval = 30;
  const stream = new CoalescingStream<number>(() => undefined, { minIntervalMs: interval });
  const received: number[] = [];
  const started = Date.now();
  const done = drain(stream, (value) => received.push(value));
  for (let value = 0; value < 300; value += 1) {
    stream.push('job', value);
    if (value % 10 === 0) await sleep(1);
  }
  const pushingFor = Date.now() - started;
  stream.end();
  await done;
  // The two the bucket holds, then one per interval.
  expect(received.length).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - started) / interval));
  expect(received.length).toBeLessThan(300);
  expect(received.at(-1)).toBe(299);
  expect(pushingFor).toBeGreaterThan(0);
});
