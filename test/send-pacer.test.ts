import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { SendPacer } from '../src/realtime/send-pacer';
import { CoalescingStream } from '../src/util/coalescing-stream';

/**
 * The pacer behind jobUpdated and jobProgress: subscription streams send a slice at a time,
 * each slice after a read of the permissions version that began after its streams asked. The
 * version read is played here by a function whose answers the test gives, so what is held and
 * what goes out at each read is exact.
 */

/** A version read the test answers: each call waits until `answer` or `fail`. */
class Reads {
  private pending: Array<{ resolve: (version: string) => void; reject: (error: Error) => void }> = [];
  calls = 0;

  readonly read = (): Promise<string> => {
    this.calls += 1;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  };

  /** Answers the read in flight, then lets the slice's consumers run. */
  async answer(version: string): Promise<void> {
    await until(() => this.pending.length > 0);
    this.pending.shift()?.resolve(version);
    await settled();
  }

  async fail(): Promise<void> {
    await until(() => this.pending.length > 0);
    this.pending.shift()?.reject(new Error('connection lost'));
    await settled();
  }
}

/** Lets promise reactions and the pacer's setImmediate run. */
async function settled(): Promise<void> {
  for (let round = 0; round < 5; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits for the pacer to get somewhere (after a failed read it pauses RETRY_MS before asking again). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition() && Date.now() < deadline) await new Promise<void>((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('timed out waiting for the pacer');
}

/** A subscriber: takes values one after the other, noting each with the version it was passed; each send costs `sendMs` of CPU. */
function subscriber(pacer: SendPacer, name: string, log: string[], sendMs = 0): CoalescingStream<string> {
  const stream = new CoalescingStream<string>(() => undefined, { pacer });
  void (async () => {
    for (;;) {
      const result = await stream.next();
      if (result.done === true) return;
      const until = performance.now() + sendMs;
      while (performance.now() < until); // serialising and writing a message
      log.push(`${name}:${result.value}@${stream.pass ?? 'none'}`);
    }
  })();
  return stream;
}

const quiet = pino({ level: 'silent' });

test('a fan-out larger than a slice goes out a slice per read, and those still in line send the newest state', async () => {
  const reads = new Reads();
  const pacer = new SendPacer(reads.read, quiet, { min: 2, adaptive: false });
  const log: string[] = [];
  const streams = ['a', 'b', 'c', 'd', 'e'].map((name) => subscriber(pacer, name, log));
  await settled();
  for (const stream of streams) stream.push('job', 'v1');
  await settled();
  expect(log).toEqual([]); // nothing before the version is read

  await reads.answer('7');
  expect(log).toEqual(['a:v1@7', 'b:v1@7']);

  // A newer state arrives while c, d and e wait: they send it instead of v1; a and b get it in their turn.
  for (const stream of streams) stream.push('job', 'v2');
  await reads.answer('7');
  expect(log.slice(2)).toEqual(['c:v2@7', 'd:v2@7']);
  await reads.answer('8');
  await reads.answer('8');
  expect(log.slice(4)).toEqual(['e:v2@8', 'a:v2@8', 'b:v2@8']);
  expect(pacer.stats).toEqual({ slices: 4, released: 7 });
});

test('a stream that asks while a read is in flight waits for the next read', async () => {
  const reads = new Reads();
  const pacer = new SendPacer(reads.read, quiet, { min: 10, adaptive: false });
  const log: string[] = [];
  const first = subscriber(pacer, 'first', log);
  const late = subscriber(pacer, 'late', log);
  await settled();
  first.push('job', 'v1');
  await until(() => reads.calls === 1);
  late.push('job', 'v1'); // the read began before it asked: it cannot vouch for it
  await reads.answer('3');
  expect(log).toEqual(['first:v1@3']);
  await reads.answer('4');
  expect(log).toEqual(['first:v1@3', 'late:v1@4']);
});

test('a status change goes ahead of the progress waiting in line, and is sent once', async () => {
  const reads = new Reads();
  const pacer = new SendPacer(reads.read, quiet, { min: 1, adaptive: false });
  const log: string[] = [];
  const first = subscriber(pacer, 'first', log);
  const streams = ['a', 'b', 'c'].map((name) => subscriber(pacer, name, log));
  await settled();
  first.push('job', 'progress');
  await until(() => reads.calls === 1); // a read is in flight from here on
  for (const stream of streams) stream.push('job', 'progress');
  (streams[2] as CoalescingStream<string>).push('job', 'SUCCEEDED', true);
  for (let read = 0; read < 4; read += 1) await reads.answer('1');
  expect(log).toEqual(['first:progress@1', 'c:SUCCEEDED@1', 'a:progress@1', 'b:progress@1']);
  // c's place in the progress line comes up with nothing left to send.
  await reads.answer('1');
  expect(log).toHaveLength(4);
});

test('while the version cannot be read nothing goes out; once it can, the newest state does', async () => {
  const reads = new Reads();
  const pacer = new SendPacer(reads.read, quiet, { min: 10, adaptive: false });
  const log: string[] = [];
  const stream = subscriber(pacer, 'a', log);
  await settled();
  stream.push('job', 'v1');
  await reads.fail();
  stream.push('job', 'v2');
  expect(log).toEqual([]);
  // The pacer asks again after a pause (RETRY_MS), with the stream still in line.
  await reads.answer('5');
  expect(log).toEqual(['a:v2@5']);
});

test('a stream holding several jobs (a snapshot) sends them all in its turn', async () => {
  const reads = new Reads();
  const pacer = new SendPacer(reads.read, quiet, { min: 1, adaptive: false });
  const log: string[] = [];
  const snapshot = subscriber(pacer, 'list', log);
  const other = subscriber(pacer, 'other', log);
  await settled();
  for (const job of ['j1', 'j2', 'j3']) snapshot.push(job, job);
  other.push('job', 'v1');
  await reads.answer('9');
  expect(log).toEqual(['list:j1@9', 'list:j2@9', 'list:j3@9']);
  await reads.answer('9');
  expect(log.at(-1)).toBe('other:v1@9');
});

test('a stream closed while in line is skipped', async () => {
  const reads = new Reads();
  const pacer = new SendPacer(reads.read, quiet, { min: 10, adaptive: false });
  const log: string[] = [];
  const ending = subscriber(pacer, 'ending', log);
  const other = subscriber(pacer, 'other', log);
  await settled();
  ending.push('job', 'v1');
  other.push('job', 'v1');
  await ending.return();
  await reads.answer('2');
  expect(log).toEqual(['other:v1@2']);
});

test('while the version reads are slow, the slices grow so that the sends keep their pace', async () => {
  const reads = new Reads();
  const pacer = new SendPacer(reads.read, quiet, { min: 2, adaptive: true });
  const log: string[] = [];
  const streams = Array.from({ length: 40 }, (_, index) => subscriber(pacer, `s${index}`, log, 1));
  await settled();
  for (const version of ['1', '2']) {
    for (const stream of streams) stream.push('job', `v${version}`);
    // Reads that take 40 ms: a slice holds what is sent in twice that (sends of 1 ms here), so everyone goes in one.
    await until(() => reads.calls === Number(version));
    await new Promise((resolve) => setTimeout(resolve, 40));
    await reads.answer(version);
    expect(log).toHaveLength(40 * Number(version));
  }
  expect(pacer.stats.slices).toBe(2);
});
