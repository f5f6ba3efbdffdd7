/**
 * bench:subscriptions' worker: one reportProgress call for every job each tick, `done` growing by
 * one per tick, at a steady pace (a late tick is not made up).
 */
import { postGraphql } from '../support/graphql-client';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ProgressWorker {
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private tick = 0;
  calls = 0;
  accepted = 0;
  failures = 0;
  lastError = '';

  constructor(
    private url: string,
    private readonly authorization: string,
    private readonly leases: readonly string[],
    private readonly intervalMs: number,
  ) {}

  /** Reports to this API (a fresh instance) from the next start on. */
  use(url: string): void {
    this.url = url;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    let next = Date.now();
    while (this.running) {
      this.tick += 1;
      const reports = this.leases.map((lease) => ({ lease, done: this.tick, total: 1_000_000, unit: 'rows' }));
      try {
        const data = await postGraphql<{ reportProgress: number }>(
          this.url,
          this.authorization,
          'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
          {
            r: reports,
          },
        );
        this.accepted += data.reportProgress;
      } catch (error) {
        this.failures += 1;
        this.lastError = error instanceof Error ? error.message : String(error);
      }
      this.calls += 1;
      next += this.intervalMs;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  }
}
