import { REPORT_LIMITS } from './report-limits';
import { GraphQLClient, JobwatchError } from './graphql-client';
import { ActiveJob } from './active-job';
import { isRetryable, refusedEntries } from './call-errors';
import type { ClaimedJob, WorkerOptions } from './worker.types';
import type { SequencedReport } from './progress-outbox';
import type { TrapDecision } from './types';

/**
 * The TypeScript worker SDK: a claim loop, heartbeats, throttled and batched progress, and an
 * AbortSignal that fires when someone cancels the job (or the attempt is lost). Any language
 * can do the same over GraphQL; this is the reference.
 *
 *   const worker = new JobwatchWorker({ url, token, workerId: 'host-1', types: ['masking'],
 *     handler: async (job, ctx) => { ctx.progress({ done: 10, total: 100 }); ... } });
 *   worker.start();  ...  await worker.stop();
 */

const JOB_FIELDS = 'id name type scope owner attempt step config asset scheduledAt';
/** Waits between tries to end an attempt (or store its last progress): doubling from the first to the last. */
const FIRST_RETRY_DELAY_MS = 200;
const MAX_RETRY_DELAY_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class JobwatchWorker {
  private readonly client: GraphQLClient;
  private readonly active = new Map<string, ActiveJob>();
  private readonly slots: Array<Promise<void>> = [];
  private running = false;
  private stopping: AbortController = new AbortController();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Sends of progress queued or running: the timer adds none while one is (a call waits for the server's write). */
  private flushesQueued = 0;

  constructor(private readonly options: WorkerOptions) {
    this.client = new GraphQLClient(options);
  }

  /** Starts claiming jobs. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.heartbeatTimer = setInterval(() => void this.heartbeatAll(), this.options.heartbeatIntervalMs ?? 5_000);
    this.progressTimer = setInterval(() => {
      if (this.flushesQueued === 0) void this.flushProgress().catch((error) => this.report(error));
    }, this.options.progressIntervalMs ?? 500);
    for (let slot = 0; slot < (this.options.concurrency ?? 1); slot += 1) this.slots.push(this.loop());
  }

  /** Stops claiming, waits for running jobs (aborting them with `worker-stopping` when `abort`), flushes. */
  async stop({ abort = false }: { abort?: boolean } = {}): Promise<void> {
    this.running = false;
    this.stopping.abort();
    if (abort) for (const job of this.active.values()) job.abort('worker-stopping');
    await Promise.all(this.slots.splice(0));
    clearInterval(this.heartbeatTimer);
    clearInterval(this.progressTimer);
    await this.flushProgress().catch(() => undefined);
  }

  /**
   * Sends all pending progress now: one call for every running job (more only past the
   * server's reports per call). Reports are numbered per lease and kept until the server says
   * they are stored (its answer comes once they are): after any error they are sent again, as
   * they were, and the server ignores those it already has. A report the server refuses as
   * invalid is dropped (and told to onError), never sent again.
   */
  flushProgress(): Promise<void> {
    const run = this.flushing.then(async () => {
      for (const job of this.active.values()) if (job.outbox.isEmpty && job.pending.hasPending) job.outbox.add(job.pending.take(job.lease));
      const entries = [...this.active.values()].flatMap((job) => job.outbox.entries.map((report) => ({ job, report })));
      for (let at = 0; at < entries.length; at += REPORT_LIMITS.reportsPerCall) {
        const batch = entries.slice(at, at + REPORT_LIMITS.reportsPerCall);
        try {
          await this.call('mutation($reports: [ProgressReport!]!) { reportProgress(reports: $reports) }', {
            reports: batch.map(({ report }) => report),
          });
        } catch (error) {
          // Nothing after a failed call is sent: a job's later reports would only meet a gap.
          if (!this.handleRefusal(error, batch)) throw error;
          return;
        }
        for (const { job, report } of batch) job.outbox.acknowledge(report.sequence);
      }
    });
    this.flushesQueued += 1;
    this.flushing = run.catch(() => undefined).finally(() => (this.flushesQueued -= 1));
    return run;
  }

  /** Deals with a refused reportProgress call it understands (invalid reports, a gap); false for any other error. */
  private handleRefusal(error: unknown, batch: ReadonlyArray<{ job: ActiveJob; report: SequencedReport }>): boolean {
    if (!(error instanceof JobwatchError)) return false;
    if (error.code === 'BAD_USER_INPUT') {
      const refused = refusedEntries(error, batch);
      this.report(new JobwatchError(`progress refused and dropped: ${error.message}`, 'BAD_USER_INPUT'));
      const byJob = new Map<ActiveJob, Set<SequencedReport>>();
      for (const { job, report } of refused) byJob.set(job, (byJob.get(job) ?? new Set()).add(report));
      for (const [job, reports] of byJob) job.outbox.drop(reports);
      return true;
    }
    if (error.code === 'CONFLICT' && error.extensions['reason'] === 'SEQUENCE_GAP') {
      const gaps = Array.isArray(error.extensions['gaps'])
        ? (error.extensions['gaps'] as Array<{ lease: string; storedSequence: number }>)
        : [];
      for (const gap of gaps) {
        const job = this.active.get(gap.lease);
        const missing = job?.outbox.resync(gap.storedSequence) ?? 0;
        if (missing > 0)
          this.report(new JobwatchError(`${missing} progress reports were lost before they could be stored`, 'SEQUENCE_GAP'), job?.job);
      }
      return true;
    }
    return false;
  }

  /** @internal */
  reportError(error: unknown, job?: ClaimedJob): void {
    this.report(error, job);
  }

  /** @internal */
  call<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    return this.client.request<T>(query, variables);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let claim: { lease: string; job: ClaimedJob; secrets: Record<string, unknown> | null } | null;
      try {
        const data = await this.call<{ claimJob: typeof claim }>(
          `mutation($workerId: String!, $types: [String!]) { claimJob(workerId: $workerId, types: $types) { lease secrets job { ${JOB_FIELDS} } } }`,
          { workerId: this.options.workerId, types: this.options.types ?? null },
        );
        claim = data.claimJob;
        failures = 0;
      } catch (error) {
        this.report(error);
        failures += 1;
        await this.pause(Math.min(30_000, (this.options.pollIntervalMs ?? 1_000) * 2 ** Math.min(failures, 5)));
        continue;
      }
      if (claim === null) {
        await this.pause((this.options.pollIntervalMs ?? 1_000) * (0.8 + Math.random() * 0.4));
        continue;
      }
      await this.run(new ActiveJob(this, claim.job, claim.lease, claim.secrets));
    }
  }

  private async run(job: ActiveJob): Promise<void> {
    this.active.set(job.lease, job);
    try {
      let outcome: { ok: true; message: string | void } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, message: await this.options.handler(job.job, job) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      // Every report stored before the attempt ends: the end is what the monitor shows last.
      await this.retry(job, () => this.flushProgress().then(() => (job.outbox.isEmpty && !job.pending.hasPending ? 'done' : 'again')));
      const aborted = job.abortReason?.reason;
      // Handed back to wait for its schedule: a later claim finishes the attempt.
      if (aborted === 'lease-lost' || (job.handedBack && aborted === undefined && outcome.ok)) return;
      if (aborted === 'cancelled') {
        await this.finish(job, 'mutation($lease: String!) { confirmCancel(lease: $lease) { status } }', { lease: job.lease });
      } else if (outcome.ok) {
        await this.finish(job, 'mutation($lease: String!, $message: String) { completeJob(lease: $lease, message: $message) { status } }', {
          lease: job.lease,
          message: typeof outcome.message === 'string' ? outcome.message : null,
        });
      } else {
        const error =
          aborted === 'worker-stopping'
            ? new Error(`Worker ${this.options.workerId} shut down before the job finished; restart the job to run it again`)
            : outcome.error instanceof Error
              ? outcome.error
              : new Error(String(outcome.error));
        await this.finish(
          job,
          'mutation($lease: String!, $error: String!, $stack: String) { failJob(lease: $lease, error: $error, stack: $stack) { status } }',
          {
            lease: job.lease,
            error: error.message.slice(0, 10_000) || error.name,
            stack: error.stack?.slice(0, 100_000) ?? null,
          },
        );
      }
    } finally {
      this.active.delete(job.lease);
    }
  }

  /**
   * Ends the attempt, retrying (with backoff, heartbeats going on) until the server answers, the
   * lease is known lost or the worker stops: a retry after a lost answer gets the same answer
   * (the server recognises the lease that ended the job), so it never turns a success into an
   * error. A cancel that arrived after the work ended is confirmed instead.
   */
  private async finish(job: ActiveJob, mutation: string, variables: Record<string, unknown>): Promise<void> {
    let call = { mutation, variables };
    await this.retry(job, async () => {
      try {
        await this.call(call.mutation, call.variables);
        return 'done';
      } catch (error) {
        if (
          error instanceof JobwatchError &&
          error.code === 'CONFLICT' &&
          error.extensions['status'] === 'CANCELLING' &&
          !call.mutation.includes('confirmCancel')
        ) {
          call = { mutation: 'mutation($lease: String!) { confirmCancel(lease: $lease) { status } }', variables: { lease: job.lease } };
          return 'again';
        }
        if (error instanceof JobwatchError && error.leaseLost) return 'done';
        throw error;
      }
    });
  }

  /**
   * Runs `attempt` until it says done, waiting longer after each failure (up to
   * MAX_RETRY_DELAY_MS). Stops when the lease is lost, the worker stops, or an error is not
   * worth retrying (the request itself is wrong); every error is told to onError.
   */
  private async retry(job: ActiveJob, attempt: () => Promise<'done' | 'again'>): Promise<void> {
    for (let failures = 0; ;) {
      try {
        if ((await attempt()) === 'done') return;
      } catch (error) {
        this.report(error, job.job);
        if (!isRetryable(error)) return;
        failures += 1;
      }
      if (job.abortReason?.reason === 'lease-lost' || !this.running) return;
      await sleep(
        failures === 0 ? 10 : Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4),
      );
    }
  }

  private async heartbeatAll(): Promise<void> {
    await Promise.all(
      [...this.active.values()].map(async (job) => {
        // The server repeats a decision until the next trap: only a heartbeat sent while this
        // trap waits (after trapJob answered) may answer it, never one about an earlier trap.
        const waiter = job.trapWaiter;
        try {
          const { heartbeat } = await this.call<{
            heartbeat: { cancelRequested: boolean; trapDecision: TrapDecision | null; storedSequence: number };
          }>('mutation($lease: String!) { heartbeat(lease: $lease) { cancelRequested trapDecision storedSequence } }', {
            lease: job.lease,
          });
          job.outbox.acknowledge(heartbeat.storedSequence);
          if (heartbeat.cancelRequested) job.abort('cancelled');
          if (heartbeat.trapDecision !== null && waiter !== undefined && job.trapWaiter === waiter) waiter(heartbeat.trapDecision);
        } catch (error) {
          if (error instanceof JobwatchError && error.leaseLost) job.abort('lease-lost');
          else this.report(error, job.job);
        }
      }),
    );
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.stopping.signal;
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private report(error: unknown, job?: ClaimedJob): void {
    this.options.onError?.(error, job);
  }
}
