import type { ClientOptions } from './graphql-client';
import type { JobStep, ProgressUpdate, TaskUpdate, TrapDecision } from './types';

// What a worker's author meets: the worker's options, the job its handler claimed, and the
// context the handler reports through.

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
  /**
   * Runs the steps from `step` on (Clarive): PRE, RUN, then POST always, even after a failure.
   * Each step that succeeds is completed on the server (completeStep), so the job's `step` is
   * the server's. When PRE is done before the job's scheduledAt, the server hands the job back
   * (PENDING at step RUN): runSteps returns at once, without running POST, the handler should
   * return, and the worker neither completes nor fails the job; a claim at the scheduled time
   * calls the handler again with `step` RUN.
   */
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
