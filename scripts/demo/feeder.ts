/**
 * The people of the demo, acting through the API: alice, bob and dave create jobs (a first
 * batch, then one every few seconds while fewer than MAX_ACTIVE are active), bob approves the
 * deployments waiting for him and resolves traps (RETRY), alice cancels a mail migration now
 * and then, and bob retries some failed asset discoveries (AnomalyArmor's "Retry Job").
 */
import type { DemoUser, JobStatus, JobSummary } from './api';
import { plan, type Owner, type PlannedJob } from './catalog';
import type { DemoJobType } from './job-types';
import { between, errorText, paint, say, sleep } from './util';

/** Active jobs (of this run) above which no new job is created. */
const MAX_ACTIVE = 15;
/** Active jobs per type above which that type is not created. */
const MAX_ACTIVE_PER_TYPE: Readonly<Record<DemoJobType, number>> = {
  masking: 4,
  'mail-migration': 4,
  deployment: 3,
  'schema-migration': 2,
  'asset-discovery': 3,
  'flaky-import': 2,
};
const WEIGHTS: Readonly<Record<DemoJobType, number>> = {
  masking: 3,
  'mail-migration': 3,
  deployment: 2,
  'schema-migration': 1,
  'asset-discovery': 2,
  'flaky-import': 1,
};
const APPROVE_AFTER_MS = 5_000;
const RESOLVE_TRAP_AFTER_MS = 10_000;
const RETRY_AFTER_MS = 12_000;
const FIRST_CANCEL_AFTER_MS = 35_000;

export interface Users {
  readonly alice: DemoUser;
  readonly bob: DemoUser;
  readonly dave: DemoUser;
}

export class Feeder {
  private readonly stopping = new AbortController();
  private loops: Array<Promise<void>> = [];
  /** When each waiting job was first seen (approvals, traps, retries wait a little, like people do). */
  private readonly seen = new Map<string, number>();
  private readonly announced = new Set<string>();
  private retries = 0;

  constructor(
    private readonly users: Users,
    /** Only jobs created after this instant count as this run's. */
    private readonly since: Date,
  ) {}

  async start(): Promise<void> {
    await this.createFirstBatch();
    this.loops = [
      this.every(
        () => between(4_000, 8_000),
        () => this.createOne(),
      ),
      this.every(
        () => 2_000,
        () => this.watch(),
      ),
      this.every(
        () => between(60_000, 90_000),
        () => this.cancelOne(),
        FIRST_CANCEL_AFTER_MS,
      ),
    ];
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  /** A few jobs of each kind; the creation order is the claim order. */
  private async createFirstBatch(): Promise<void> {
    const batch: PlannedJob[] = [
      plan('mail-migration', 'success'),
      plan('masking', 'success'),
      plan('deployment', 'success'),
      plan('asset-discovery', 'failure'),
      plan('schema-migration', 'trap'),
      plan('flaky-import', 'crash'),
      plan('masking', 'success'),
      plan('mail-migration', 'success'),
      plan('flaky-import', 'success'),
      plan('deployment', 'success'),
      plan('asset-discovery', 'success'),
      plan('masking', 'failure'),
    ];
    for (const job of batch) {
      // Stopped while the first jobs were being made (a Ctrl-C right after the start): make no more.
      if (this.stopping.signal.aborted) return;
      await this.create(job);
    }
  }

  private async createOne(): Promise<void> {
    const active = await this.users.alice.jobs({ tab: 'ACTIVE', createdAfter: this.since.toISOString() }, 500);
    if (active.length >= MAX_ACTIVE) return;
    const perType = new Map<string, number>();
    for (const job of active) perType.set(job.type, (perType.get(job.type) ?? 0) + 1);
    const candidates = (Object.keys(WEIGHTS) as DemoJobType[]).filter((type) => (perType.get(type) ?? 0) < MAX_ACTIVE_PER_TYPE[type]);
    const total = candidates.reduce((sum, type) => sum + WEIGHTS[type], 0);
    let draw = Math.random() * total;
    const type = candidates.find((candidate) => (draw -= WEIGHTS[candidate]) < 0);
    if (type !== undefined) await this.create(plan(type));
  }

  private async create(job: PlannedJob): Promise<void> {
    const created = await this.users[job.owner].createJob(job.input);
    const approval = created.status === 'WAITING_APPROVAL' ? ` (approvers: ${created.approvers.join(', ')})` : '';
    say(job.owner, `created ${created.type} "${created.name}" in ${job.input.scope}: ${created.status}${approval}`, 'blue');
  }

  /** Approvals, traps, abended and failed jobs: what the people of the demo react to. */
  private async watch(): Promise<void> {
    const now = Date.now();
    const waiting = await this.users.bob.jobs({ statuses: ['WAITING_APPROVAL', 'TRAPPED'] });
    for (const job of waiting) {
      const firstSeen = this.firstSeen(`${job.id}:${job.status}`, now);
      if (
        job.status === 'WAITING_APPROVAL' &&
        job.type === 'deployment' &&
        job.approvers.includes('bob') &&
        now - firstSeen >= APPROVE_AFTER_MS
      ) {
        await this.act(
          'bob',
          job,
          () => this.users.bob.approveJob(job.id, 'Change approved by the CAB; go ahead'),
          'approved',
          'WAITING_APPROVAL → PENDING',
        );
      }
      // Only traps of this demo's live workers: a trap nobody heartbeats for ends ABENDED anyway.
      if (job.status === 'TRAPPED' && job.workerId?.startsWith('demo-') === true && now - firstSeen >= RESOLVE_TRAP_AFTER_MS) {
        await this.act('bob', job, () => this.users.bob.resolveTrap(job.id, 'RETRY'), 'resolved the trap of', 'RETRY: TRAPPED → RUNNING');
      }
    }

    const recent = new Date(Math.max(this.since.getTime(), now - 120_000)).toISOString();
    const ended = await this.users.alice.jobs({ statuses: ['ABENDED', 'FAILED'], finishedAfter: recent });
    for (const job of ended) {
      const key = `${job.id}:${job.attempt}:${job.status}`;
      if (!this.announced.has(key)) {
        this.announced.add(key);
        const what =
          job.status === 'ABENDED'
            ? 'is ABENDED: the daemon saw its heartbeat stop'
            : `FAILED on attempt ${job.attempt} (its error has the stack trace)`;
        say('monitor', `${job.type} "${job.name}" ${what}`, job.status === 'ABENDED' ? 'magenta' : 'red');
        // AnomalyArmor's "Retry Job": every other failed discovery (the 2nd, the 4th...) is retried
        // once, by bob; the others stay FAILED with their stack trace for newcomers to look at.
        if (job.status === 'FAILED' && job.type === 'asset-discovery' && job.attempt === 1 && ++this.retries % 2 === 0) {
          this.seen.set(`retry:${job.id}`, now);
        }
      }
      const retryAt = this.seen.get(`retry:${job.id}`);
      if (retryAt !== undefined && now - retryAt >= RETRY_AFTER_MS) {
        this.seen.delete(`retry:${job.id}`);
        await this.act('bob', job, () => this.users.bob.restartJob(job.id), 'retried', `FAILED → PENDING, attempt ${job.attempt + 1}`);
      }
    }
    for (const key of this.seen.keys())
      if (!key.startsWith('retry:') && now - (this.seen.get(key) ?? now) > 3_600_000) this.seen.delete(key);
  }

  /** Alice cancels a mail migration that is copying (the seed's Cancel button). */
  private async cancelOne(): Promise<void> {
    const running = await this.users.alice.jobs({
      types: ['mail-migration'],
      statuses: ['RUNNING'],
      createdAfter: this.since.toISOString(),
    });
    const victim = running.find((job) => job.progress.phase === 'copying') ?? running[0];
    if (victim === undefined) return;
    await this.act(
      'alice',
      victim,
      () => this.users.alice.cancelJob(victim.id, 'Wrong destination tenant: will rerun tomorrow'),
      'cancelled',
      'RUNNING → CANCELLING → CANCELLED once the worker confirms',
    );
  }

  private async act(who: Owner, job: JobSummary, action: () => Promise<unknown>, verb: string, transition: string): Promise<void> {
    try {
      await action();
      say(who, `${verb} ${job.type} "${job.name}" ${paint('dim', `(${transition})`)}`, 'blue');
    } catch (error) {
      // A race with a worker or the daemon (CONFLICT) is normal: the job moved on by itself.
      say(who, `could not act on "${job.name}": ${errorText(error)}`, 'yellow');
    }
  }

  private firstSeen(key: string, now: number): number {
    const at = this.seen.get(key);
    if (at !== undefined) return at;
    this.seen.set(key, now);
    return now;
  }

  /** Runs `task` again and again with a pause between runs, until the feeder stops. */
  private async every(pause: () => number, task: () => Promise<void>, firstPause = pause()): Promise<void> {
    const signal = this.stopping.signal;
    let wait = firstPause;
    while (!signal.aborted) {
      try {
        await sleep(wait, signal);
      } catch {
        return;
      }
      try {
        await task();
      } catch (error) {
        if (!signal.aborted) say('demo', `feeder: ${errorText(error)}`, 'yellow');
      }
      wait = pause();
    }
  }
}

/** The statuses the status line shows, in the order a job meets them. */
export const STATUS_ORDER: readonly JobStatus[] = [
  'WAITING_APPROVAL',
  'PENDING',
  'RUNNING',
  'TRAPPED',
  'TRAP_PAUSED',
  'CANCELLING',
  'ROLLBACK',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'ABENDED',
  'REJECTED',
  'EXPIRED',
];
