/**
 * CPU spent by one target during one load run: its Node process, its Postgres backends (found by
 * their application_name, so Postgres must run on this machine), this runner (autocannon), and
 * everything else on the machine (other helpers' tests: the noise of the measurement).
 */
import type { Pool } from 'pg';
import type { GcTotals } from '../support/gc-meter';
import type { Child } from '../support/processes';
import { cpuSeconds, machineTimes } from '../support/proc-stats';

export interface RunCpu {
  /** CPU seconds of the target's Node process. */
  readonly server: number;
  /** CPU seconds of its Postgres backends. */
  readonly postgres: number;
  /** CPU seconds of the rest of the machine (not the target, its backends, nor this runner). */
  readonly others: number;
  /** Wall-clock seconds of the run. */
  readonly seconds: number;
  /** The target's garbage-collector pauses during the run (gc-meter), in ms; undefined without the meter. */
  readonly gc: { readonly youngMs: number; readonly fullMs: number } | undefined;
}

export class RunMeter {
  constructor(
    private readonly pool: Pool,
    private readonly database: string,
  ) {}

  /** Measures `run`: CPU and GC pauses of process `target`, CPU of the backends named `applicationName`. */
  async measure<T>(target: Child, applicationName: string, run: () => Promise<T>): Promise<{ result: T; cpu: RunCpu }> {
    const pid = target.process.pid;
    if (pid === undefined) throw new Error(`${target.name} has no pid: it did not start`);
    const gcBefore = await target.gcTotals();
    const backendsBefore = await this.backendCpu(applicationName);
    const serverBefore = cpuSeconds(pid);
    const selfBefore = process.cpuUsage();
    const machineBefore = machineTimes();
    const started = Date.now();
    const result = await run();
    const seconds = (Date.now() - started) / 1000;
    const machine = machineTimes().busy - machineBefore.busy;
    const selfUsage = process.cpuUsage(selfBefore);
    const self = (selfUsage.user + selfUsage.system) / 1e6;
    const server = cpuSeconds(pid) - serverBefore;
    const gcAfter = await target.gcTotals();
    const backendsAfter = await this.backendCpu(applicationName);
    let postgres = 0;
    // A backend that ended during the run is lost (its CPU cannot be read any more); one that
    // started during it counts from zero. The pools keep their connections while they are busy.
    for (const [backend, after] of backendsAfter) postgres += after - (backendsBefore.get(backend) ?? 0);
    const gc = gcDelta(gcBefore, gcAfter);
    return { result, cpu: { server, postgres, others: Math.max(0, machine - server - postgres - self), seconds, gc } };
  }

  private async backendCpu(applicationName: string): Promise<Map<number, number>> {
    const { rows } = await this.pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [this.database, applicationName],
    );
    return new Map(rows.map((row) => [row.pid, cpuSeconds(row.pid)]));
  }
}

function gcDelta(before: GcTotals | undefined, after: GcTotals | undefined): RunCpu['gc'] {
  if (before === undefined || after === undefined) return undefined;
  return { youngMs: after.youngMs - before.youngMs, fullMs: after.fullMs - before.fullMs };
}

/** The database URL with an application_name, so that a target's backends can be told apart. */
export function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}
