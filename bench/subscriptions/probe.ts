/**
 * Preloaded into the servers bench:subscriptions measures (`node --expose-gc -r probe.js ...`):
 * on SIGUSR2 it runs a full garbage collection (when --expose-gc is on) and prints one line to
 * stdout, `@@bench-probe {...}`, with the process's memory after it and its event-loop delay
 * since the previous probe (then reset). On SIGWINCH, with BENCH_PROBE_SNAPSHOTS set to a
 * folder, it writes a heap snapshot there and prints `@@bench-snapshot <file>`. Nothing else in
 * the server changes.
 */
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

export const PROBE_MARKER = '@@bench-probe ';
export const SNAPSHOT_MARKER = '@@bench-snapshot ';

export interface ProbeReading {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly gc: boolean;
  /** Event-loop delay since the previous probe, ms. */
  readonly loopDelayP50: number;
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  /** V8's heap spaces: MB used and MB of physical memory they hold. */
  readonly spaces: Readonly<Record<string, { used: number; physical: number }>>;
}

if (process.env['BENCH_PROBE'] === '1') {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    setImmediate(() => {
      const memory = process.memoryUsage();
      const reading: ProbeReading = {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
        gc: gc !== undefined,
        loopDelayP50: delay.percentile(50) / 1e6,
        loopDelayP99: delay.percentile(99) / 1e6,
        loopDelayMax: delay.max / 1e6,
        spaces: Object.fromEntries(
          getHeapSpaceStatistics().map((space) => [
            space.space_name,
            { used: Math.round(space.space_used_size / 104857.6) / 10, physical: Math.round(space.physical_space_size / 104857.6) / 10 },
          ]),
        ),
      };
      delay.reset();
      process.stdout.write(`${PROBE_MARKER}${JSON.stringify(reading)}\n`);
    });
  });
  const folder = process.env['BENCH_PROBE_SNAPSHOTS'];
  if (folder !== undefined && folder !== '') {
    let count = 0;
    process.on('SIGWINCH', () => {
      count += 1;
      const file = writeHeapSnapshot(path.join(folder, `${process.pid}-${count}.heapsnapshot`));
      process.stdout.write(`${SNAPSHOT_MARKER}${file}\n`);
    });
  }
}
