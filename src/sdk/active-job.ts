import { JobwatchError } from './graphql-client';
import { JobAbortedError, type ClaimedJob, type JobContext } from './worker.types';
import { PendingProgress } from './pending-progress';
import { ProgressOutbox } from './progress-outbox';
import type { JobStep, ProgressUpdate, TaskUpdate, TrapDecision } from './types';

const STEPS: readonly JobStep[] = ['PRE', 'RUN', 'POST'];

/** What an active job uses of its worker (JobwatchWorker). */
export interface WorkerHost {
  flushProgress(): Promise<void>;
  reportError(error: unknown, job?: ClaimedJob): void;
  call<T>(query: string, variables: Record<string, unknown>): Promise<T>;
}

/** A claimed job while its handler runs: the handler's context, its pending progress and outbox. */
export class ActiveJob implements JobContext {
  readonly controller = new AbortController();
  readonly pending = new PendingProgress();
  /** Reports numbered and sent, kept until the server says they are stored. */
  readonly outbox = new ProgressOutbox();
  /** Set while trap() waits, only once trapJob has answered: a heartbeat sent before cannot answer it. */
  trapWaiter: ((decision: TrapDecision) => void) | undefined;
  /** Set when completeStep handed the job back to wait for its schedule: the attempt goes on later, under a new claim. */
  handedBack = false;

  constructor(
    readonly worker: WorkerHost,
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
    await this.worker.call(
      'mutation($lease: String!, $error: String!, $timeout: Int) { trapJob(lease: $lease, error: $error, timeoutSeconds: $timeout) { status } }',
      {
        lease: this.lease,
        error: message,
        timeout: options.timeoutSeconds ?? null,
      },
    );
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
    for (const step of STEPS.slice(STEPS.indexOf(this.step))) {
      if (step === 'POST') break;
      try {
        this.signal.throwIfAborted();
        await steps[step]?.();
        // Nothing after RUN: the job ends at RUN (its `step` says which step ended it).
        if (step === 'RUN' && steps.POST === undefined) break;
        // The server moves the job to the next step; RUN before its schedule hands the job back.
        if ((await this.completeStep()) === 'PENDING') {
          this.handedBack = true;
          return;
        }
      } catch (error) {
        failure = error;
        break;
      }
    }
    // POST always runs after PRE or RUN, success or failure; it is told about a failure.
    const post = steps.POST;
    if (post !== undefined && !(failure instanceof JobAbortedError && failure.reason === 'lease-lost')) {
      await post(failure);
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the step threw, as it was
    if (failure !== undefined) throw failure;
  }

  /**
   * Ends the current step on the server (its progress sent first). A cancel or a lost lease
   * aborts the signal as a heartbeat would have, and throws that reason.
   */
  private async completeStep(): Promise<string> {
    await this.worker.flushProgress().catch((flushError: unknown) => this.worker.reportError(flushError, this.job));
    try {
      const { completeStep } = await this.worker.call<{ completeStep: { status: string } }>(
        'mutation($lease: String!) { completeStep(lease: $lease) { status } }',
        {
          lease: this.lease,
        },
      );
      return completeStep.status;
    } catch (error) {
      if (error instanceof JobwatchError && error.leaseLost) this.abort('lease-lost');
      else if (error instanceof JobwatchError && error.code === 'CONFLICT' && error.extensions['status'] === 'CANCELLING')
        this.abort('cancelled');
      else throw error;
      throw this.signal.reason;
    }
  }
}
