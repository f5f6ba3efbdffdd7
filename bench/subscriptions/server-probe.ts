/**
 * The runner's side of probe.ts: asks a server child for a probe (SIGUSR2) and reads the answer
 * from its stdout.
 */
import type { Child } from '../support/processes';
import { PROBE_MARKER, type ProbeReading, SNAPSHOT_MARKER } from './probe';

export class ServerProbe {
  private buffer = '';
  private waiters: Array<(reading: ProbeReading) => void> = [];
  private snapshotWaiters: Array<(file: string) => void> = [];

  constructor(private readonly child: Child) {
    child.process.stdout?.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let newline = this.buffer.indexOf('\n');
      while (newline >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        const at = line.indexOf(PROBE_MARKER);
        if (at >= 0) {
          const reading = JSON.parse(line.slice(at + PROBE_MARKER.length)) as ProbeReading;
          for (const waiter of this.waiters.splice(0)) waiter(reading);
        }
        const snapshotAt = line.indexOf(SNAPSHOT_MARKER);
        if (snapshotAt >= 0) {
          const file = line.slice(snapshotAt + SNAPSHOT_MARKER.length).trim();
          for (const waiter of this.snapshotWaiters.splice(0)) waiter(file);
        }
        newline = this.buffer.indexOf('\n');
      }
    });
  }

  get pid(): number {
    return this.child.process.pid as number;
  }

  /** A full GC in the server, then its memory and its event-loop delay since the previous probe. */
  read(timeoutMs = 30_000): Promise<ProbeReading> {
    return new Promise<ProbeReading>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.child.name} did not answer the probe within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((reading) => {
        clearTimeout(timer);
        resolve(reading);
      });
      this.child.process.kill('SIGUSR2');
    });
  }

  /** A heap snapshot (the server must run with BENCH_PROBE_SNAPSHOTS); answers its file. */
  snapshot(timeoutMs = 300_000): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.child.name} wrote no heap snapshot within ${timeoutMs} ms`)), timeoutMs);
      this.snapshotWaiters.push((file) => {
        clearTimeout(timer);
        resolve(file);
      });
      this.child.process.kill('SIGWINCH');
    });
  }
}
