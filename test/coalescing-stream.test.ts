import { CoalescingStream } from '../src/util/coalescing-stream';
import { random } from './support/random';

/**
 * The stream behind jobProgress: coalesces per key, and sends at most one value per interval on
 * average. A value arriving at the pace of the interval (a progress flush every
 * PROGRESS_FLUSH_MS) must go out at once, not wait for the rest of an interval it happened to
 * fall into; a flood must still be held to the pace. On a fake clock, so the figures do not
 * depend on how busy the machine is.
 */
beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

/** Takes values as a subscriber does, noting when each came out. */
function consume<T>(stream: CoalescingStream<T>, sink: (value: T) => void): Promise<void> {
  return (async () => {
    for (;;) {
      const result = await stream.next();
      if (result.done === true) return;
      sink(result.value);
    }
  })();
}

test('values at the pace of the interval, with jitter, go out without waiting', async () => {
  const interval = 40;
  const stream = new CoalescingStream<number>(() => undefined, { minIntervalMs: interval });
  const delays: number[] = [];
  const pushedAt = new Map<number, number>();
  const done = consume(stream, (value) => delays.push(Date.now() - (pushedAt.get(value) as number)));
  const jitter = random(7);
  for (let value = 0; value < 60; value += 1) {
    // A little early or a little late, as timers are: with a window that restarts at each send,
    // the lateness is a random walk that settles anywhere up to a whole interval behind.
    await jest.advanceTimersByTimeAsync(interval + Math.round((jitter.next() - 0.5) * 24));
    pushedAt.set(value, Date.now());
    stream.push('job', value);
  }
  await jest.advanceTimersByTimeAsync(interval * 2);
  stream.end();
  await jest.advanceTimersByTimeAsync(interval * 2);
  await done;
  expect(delays).toHaveLength(60);
  const sorted = [...delays].sort((a, b) => a - b);
  expect(sorted[Math.floor(sorted.length / 2)]).toBe(0);
  expect(sorted[Math.floor(sorted.length * 0.9)]).toBeLessThan(interval / 4);
  // Never a whole interval late (which is where a restarting window drifts to, dropping ticks).
  expect(sorted.at(-1)).toBeLessThan(interval);
});

test('a flood is held to one value per interval on average, and the last one always comes out', async () => {
  const interval = 30;
  const stream = new CoalescingStream<number>(() => undefined, { minIntervalMs: interval });
  const received: Array<{ value: number; at: number }> = [];
  const started = Date.now();
  const done = consume(stream, (value) => received.push({ value, at: Date.now() - started }));
  // 300 values over 300 ms: one every millisecond.
  for (let value = 0; value < 300; value += 1) {
    stream.push('job', value);
    await jest.advanceTimersByTimeAsync(1);
  }
  stream.end();
  await jest.advanceTimersByTimeAsync(interval * 2);
  await done;
  // The two the bucket holds, then one per interval.
  expect(received.length).toBeLessThanOrEqual(2 + Math.ceil(300 / interval) + 1);
  expect(received.length).toBeGreaterThanOrEqual(Math.floor(300 / interval));
  for (let index = 2; index < received.length; index += 1) {
    expect(received[index]!.at - received[index - 2]!.at).toBeGreaterThanOrEqual(interval);
  }
  expect(received.at(-1)!.value).toBe(299);
});
