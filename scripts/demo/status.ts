import type { DemoUser, JobStatus } from './api';
import { STATUS_ORDER } from './feeder';
import type { WorkerFleet } from './workers';
import { errorText, paint, say, sleep, type Color } from './util';

const COLOR: Partial<Record<JobStatus, Color>> = {
  RUNNING: 'cyan',
  SUCCEEDED: 'green',
  FAILED: 'red',
  ABENDED: 'magenta',
  TRAPPED: 'yellow',
  WAITING_APPROVAL: 'yellow',
  CANCELLED: 'dim',
};

/** Prints, every `intervalMs`, how many of this run's jobs are in each status (jobCounts, as alice). */
export class StatusLine {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly viewer: DemoUser,
    private readonly since: Date,
    private readonly fleet: WorkerFleet,
    private readonly intervalMs = 10_000,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  async print(): Promise<void> {
    const counts = await this.viewer.jobCounts({ createdAfter: this.since.toISOString() });
    const parts = STATUS_ORDER.filter((status) => (counts.get(status) ?? 0) > 0).map((status) => {
      const color = COLOR[status];
      const part = `${status.toLowerCase().replace('_', ' ')} ${counts.get(status)}`;
      return color === undefined ? part : paint(color, part);
    });
    const { up, of } = this.fleet.alive;
    say('status', `${parts.length === 0 ? 'no jobs yet' : parts.join(' · ')}  ${paint('dim', `| workers ${up}/${of} up`)}`, 'bold');
  }

  private async run(): Promise<void> {
    for (;;) {
      try {
        await sleep(this.intervalMs, this.stopping.signal);
      } catch {
        return;
      }
      await this.print().catch((error: unknown) => say('status', errorText(error), 'yellow'));
    }
  }
}
