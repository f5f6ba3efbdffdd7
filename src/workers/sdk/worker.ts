import { REPORT_LIMITS } from '../progress/report-limits';
import { GraphQLClient, JobwatchError, type ClientOptions } from './graphql-client';
import { PendingProgress, type Part, type Report } from './pending-progress';

/**
 * The TypeScript worker SDK: a claim loop, heartbeats, throttled and batched progress, and an
 * AbortSignal that fires when someone cancels the job (or the attempt is lost). Any language
 * can do the same over GraphQL; this is the reference.
 *
 *   const worker = new JobwatchWorker({ url, token, workerId: 'host-1', types: ['masking'],
 *     handler: async (job, ctx) => { ctx.progress({ done: 10, total: 100 }); ... } });
 *   worker.start();  ...  await worker.stop();
 */

export type JobStep = 'PRE' | 'RUN' | 'POST';
export type TaskStatus = 'WAITING' | 'PROCESSING' | 'COMPLETED' | 'FAILED';
export type TrapDecision = 'RETRY' | 'SKIP';

export interface ClaimedJob {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly scope: string;
  readonly owner: string;
  readonly attempt: number;
  /** Where to start: this step and every later one run. */
  readonly step: JobStep;
  readonly config: Record<string, unknown>;
  readonly asset: string | null;
  readonly scheduledAt: string | null;
}

export interface ProgressUpdate {
  done?: number;
  /** null while counting: the progress is indeterminate. */
  total?: number | null;
  unit?: string;
  phase?: string;
  message?: string;
  step?: JobStep;
}

export interface TaskUpdate {
  status?: TaskStatus;
  done?: number;
  total?: number | null;
  unit?: string;
  message?: string;
}

/** Why a job's signal aborted. */
export class JobAbortedError extends Error {
  override readonly name = 'JobAbortedError';
  constructor(readonly reason: 'cancelled' | 'lease-lost' | 'worker-stopping') {
    super(`job aborted: ${reason}`);
  }
}

export interface JobContext {
  /** Aborts when the job is cancelled, its attempt is lost, or the worker stops. */
  readonly signal: AbortSignal;
  readonly secrets: Record<string, unknown> | null;
  /** The step this attempt starts from. */
  readonly step: JobStep;
  /**
   * Records progress; sent batched, at most every `progressIntervalMs`. Texts longer than the
   * server takes are cut; a count that is not a number from 0 to 2^53 throws a RangeError.
   */
  progress(update: ProgressUpdate): void;
  /** Records a task's progress (a table, a file, a folder). A name must be 1 to 300 characters (RangeError). */
  task(name: string, update: TaskUpdate): void;
  /** A line for the job's timeline (every line is sent, over as many reports as it takes). */
  log(line: string): void;
  /** Traps an error and waits for a person's decision: RETRY or SKIP (ABORT ends the job: the signal aborts). */
  trap(error: string | Error, options?: { timeoutSeconds?: number }): Promise<TrapDecision>;
  /** Says the work is being undone; end with a thrown error (the job FAILS). */
  rollback(reason?: string): Promise<void>;
  /** Runs the steps from `step` on (Clarive): PRE, RUN, then POST always, even after a failure. */
  runSteps(steps: Partial<Record<JobStep, (failure?: unknown) => Promise<void>>>): Promise<void>;
}

export interface WorkerOptions extends ClientOptions {
  readonly workerId: string;
  readonly types?: readonly string[];
  readonly handler: (job: ClaimedJob, ctx: JobContext) => Promise<string | void>;
  /** Jobs run at once (default 1). */
  readonly concurrency?: number;
  /** Wait between claims when there is nothing to do (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** Heartbeat period; keep it well under the server's HEARTBEAT_TIMEOUT_MS (default 5000 ms). */
  readonly heartbeatIntervalMs?: number;
  /** Progress is sent at most this often, all jobs in one call (default 500 ms). */
  readonly progressIntervalMs?: number;
  readonly onError?: (error: unknown, job?: ClaimedJob) => void;
}

const JOB_FIELDS = 'id name type scope owner attempt step config asset scheduledAt';
const STEPS: readonly JobStep[] = ['PRE', 'RUN', 'POST'];

class ActiveJob implements JobContext {
  readonly controller = new AbortController();
  readonly pending = new PendingProgress();
  /** Set while trap() waits, only once trapJob has answered: a heartbeat sent before cannot answer it. */
  trapWaiter: ((decision: TrapDecision) => void) | undefined;

  constructor(
    readonly worker: JobwatchWorker,
    readonly job: ClaimedJob,
    readonly lease: string,
    readonly secrets: Record<string, unknown> | null,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get step(): JobStep {
    return this.job.step;
  }

  get abortReason(): JobAbortedError | undefined {
    return this.signal.aborted ? (this.signal.reason as JobAbortedError) : undefined;
  }

  abort(reason: JobAbortedError['reason']): void {
    if (!this.signal.aborted) this.controller.abort(new JobAbortedError(reason));
  }

  progress(update: ProgressUpdate): void {
    this.pending.progress(update);
  }

  task(name: string, update: TaskUpdate): void {
    this.pending.task(name, update);
  }

  log(line: string): void {
    this.pending.log(line);
  }

  async trap(error: string | Error, options: { timeoutSeconds?: number } = {}): Promise<TrapDecision> {
    const message = (typeof error === 'string' ? error : error.message).slice(0, 10_000) || 'Trapped';
    await this.worker.flushProgress().catch((flushError: unknown) => this.worker.reportError(flushError, this.job));
    // If this throws, nothing waits for a decision: the error is the handler's to handle.
    await this.worker.call('mutation($lease: String!, $error: String!, $timeout: Int) { trapJob(lease: $lease, error: $error, timeoutSeconds: $timeout) { status } }', {
      lease: this.lease,
      error: message,
      timeout: options.timeoutSeconds ?? null,
    });
    return new Promise<TrapDecision>((resolve, reject) => {
      if (this.signal.aborted) {
        reject(this.signal.reason);
        return;
      }
      const onAbort = () => {
        this.trapWaiter = undefined;
        reject(this.signal.reason);
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.trapWaiter = (decision) => {
        this.trapWaiter = undefined;
        this.signal.removeEventListener('abort', onAbort);
        resolve(decision);
      };
    });
  }

  async rollback(reason?: string): Promise<void> {
    await this.worker.flushProgress().catch((flushError: unknown) => this.worker.reportError(flushError, this.job));
    await this.worker.call('mutation($lease: String!, $reason: String) { startRollback(lease: $lease, reason: $reason) { status } }', {
      lease: this.lease,
      reason: reason ?? null,
    });
  }

  async runSteps(steps: Partial<Record<JobStep, (failure?: unknown) => Promise<void>>>): Promise<void> {
    let failure: unknown;
    for (const step of STEPS.slice(STEPS.indexOf(this.step)).filter((s) => s !== 'POST')) {
      const run = steps[step];
      if (run === undefined) continue;
      this.progress({ step });
      try {
        this.signal.throwIfAborted();
        await run();
      } catch (error) {
        failure = error;
        break;
      }
    }
    // POST always runs after PRE or RUN, success or failure; it is told about a failure.
    const post = steps.POST;
    if (post !== undefined && !(failure instanceof JobAbortedError && failure.reason === 'lease-lost')) {
      this.progress({ step: 'POST' });
      await post(failure);
    }
    if (failure !== undefined) throw failure;
  }
}

export class JobwatchWorker {
  private readonly client: GraphQLClient;
  private readonly active = new Map<string, ActiveJob>();
  private readonly slots: Array<Promise<void>> = [];
  private running = false;
  private stopping: AbortController = new AbortController();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: WorkerOptions) {
    this.client = new GraphQLClient(options);
  }

  /** Starts claiming jobs. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.heartbeatTimer = setInterval(() => void this.heartbeatAll(), this.options.heartbeatIntervalMs ?? 5_000);
    this.progressTimer = setInterval(() => void this.flushProgress().catch((error) => this.report(error)), this.options.progressIntervalMs ?? 500);
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
   * server's reports per call). A report the server refuses as invalid is dropped (and told to
   * onError), never sent again: the others go on. Anything else that fails is kept for the next try.
   */
  flushProgress(): Promise<void> {
    const run = this.flushing.then(async () => {
      const parts = [...this.active.values()].flatMap((job) => (job.pending.hasPending ? job.pending.take(job.lease).map((taken) => ({ job, ...taken })) : []));
      let failure: unknown;
      for (const batch of batches(parts)) {
        try {
          await this.call('mutation($reports: [ProgressReport!]!) { reportProgress(reports: $reports) }', {
            reports: batch.flatMap(({ reports }) => reports),
          });
        } catch (error) {
          const refused = error instanceof JobwatchError && error.code === 'BAD_USER_INPUT' ? refusedParts(error, batch) : undefined;
          if (refused !== undefined) this.report(new JobwatchError(`progress refused and dropped: ${(error as Error).message}`, 'BAD_USER_INPUT'));
          else failure ??= error;
          // Put back what was not refused (in order, before anything newer), for the next try.
          const back = new Map<ActiveJob, Part[]>();
          for (const entry of batch) {
            if (refused?.has(entry) === true || !this.active.has(entry.job.lease)) continue;
            back.set(entry.job, [...(back.get(entry.job) ?? []), entry.part]);
          }
          for (const [job, kept] of back) job.pending.restore(kept);
        }
      }
      if (failure !== undefined) throw failure;
    });
    this.flushing = run.catch(() => undefined);
    return run;
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
      await this.flushProgress().catch((error) => this.report(error, job.job));
      const aborted = job.abortReason?.reason;
      if (aborted === 'lease-lost') return;
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
        await this.finish(job, 'mutation($lease: String!, $error: String!, $stack: String) { failJob(lease: $lease, error: $error, stack: $stack) { status } }', {
          lease: job.lease,
          error: error.message.slice(0, 10_000) || error.name,
          stack: error.stack?.slice(0, 100_000) ?? null,
        });
      }
    } finally {
      this.active.delete(job.lease);
    }
  }

  private async finish(job: ActiveJob, mutation: string, variables: Record<string, unknown>): Promise<void> {
    try {
      await this.call(mutation, variables);
    } catch (error) {
      // A cancel that arrived after the work ended: confirm it rather than lose the attempt.
      if (error instanceof JobwatchError && error.code === 'CONFLICT' && error.extensions['status'] === 'CANCELLING') {
        await this.call('mutation($lease: String!) { confirmCancel(lease: $lease) { status } }', { lease: job.lease }).catch((e) => this.report(e, job.job));
        return;
      }
      if (!(error instanceof JobwatchError && error.leaseLost)) this.report(error, job.job);
    }
  }

  private async heartbeatAll(): Promise<void> {
    await Promise.all(
      [...this.active.values()].map(async (job) => {
        // The server repeats a decision until the next trap: only a heartbeat sent while this
        // trap waits (after trapJob answered) may answer it, never one about an earlier trap.
        const waiter = job.trapWaiter;
        try {
          const { heartbeat } = await this.call<{ heartbeat: { cancelRequested: boolean; trapDecision: TrapDecision | null } }>(
            'mutation($lease: String!) { heartbeat(lease: $lease) { cancelRequested trapDecision } }',
            { lease: job.lease },
          );
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

type Taken = { job: ActiveJob; part: Part; reports: Report[] };

/** Parts in calls of at most the server's reports per call; a part is never split between calls. */
function batches(parts: readonly Taken[]): Taken[][] {
  const result: Taken[][] = [];
  let batch: Taken[] = [];
  let size = 0;
  for (const entry of parts) {
    if (batch.length > 0 && size + entry.reports.length > REPORT_LIMITS.reportsPerCall) {
      result.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(entry);
    size += entry.reports.length;
  }
  if (batch.length > 0) result.push(batch);
  return result;
}

/**
 * The parts holding the reports a BAD_USER_INPUT names: the server lists them
 * (`invalidReports`), GraphQL's own input errors name them in the message ("reports[3]").
 * Naming none, the whole batch is refused.
 */
function refusedParts(error: JobwatchError, batch: readonly Taken[]): Set<Taken> {
  const listed = error.extensions['invalidReports'];
  const indexes = Array.isArray(listed)
    ? listed.filter((index): index is number => typeof index === 'number')
    : [...error.message.matchAll(/\breports\[(\d+)\]/g)].map((match) => Number(match[1]));
  if (indexes.length === 0) return new Set(batch);
  const wanted = new Set(indexes);
  const refused = new Set<Taken>();
  let index = 0;
  for (const entry of batch) {
    for (let i = 0; i < entry.reports.length; i += 1, index += 1) if (wanted.has(index)) refused.add(entry);
  }
  return refused;
}

export { GraphQLClient, JobwatchError };
