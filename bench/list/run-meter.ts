/**
 * CPU spent by one target during one load run: its Node process, its Postgres backends (found by
 * their application_name, so Postgres must run on this machine), this runner (autocannon), and
 * everything else on the machine (other helpers' tests: the noise of the measurement).
 */
import type { Pool } from 'pg';
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
}

export class RunMeter {
  constructor(
    private readonly pool: Pool,
    private readonly database: string,
  ) {}

  /** Measures `run`: CPU of process `pid` and of the backends named `applicationName`. */
  async measure<T>(pid: number, applicationName: string, run: () => Promise<T>): Promise<{ result: T; cpu: RunCpu }> {
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
    const backendsAfter = await this.backendCpu(applicationName);
    let postgres = 0;
    // A backend that ended during the run is lost (its CPU cannot be read any more); one that
    // started during it counts from zero. The pools keep their connections while they are busy.
    for (const [backend, after] of backendsAfter) postgres += after - (backendsBefore.get(backend) ?? 0);
    return { result, cpu: { server, postgres, others: Math.max(0, machine - server - postgres - self), seconds } };
  }

  private async backendCpu(applicationName: string): Promise<Map<number, number>> {
    const { rows } = await this.pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [this.database, applicationName],
    );
    return new Map(rows.map((row) => [row.pid, cpuSeconds(row.pid)]));
  }
}

/** The database URL with an application_name, so that a target's backends can be told apart. */
export function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}
