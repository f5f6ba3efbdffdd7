/**
 * The job state machine as data. Code, SQL guards, the schema's docs and the tests all read
 * these tables; nothing else in the codebase lists statuses by hand.
 */
export const JobStatus = {
  CREATED: 'CREATED',
  WAITING_APPROVAL: 'WAITING_APPROVAL',
  PENDING: 'PENDING',
  RUNNING: 'RUNNING',
  TRAPPED: 'TRAPPED',
  TRAP_PAUSED: 'TRAP_PAUSED',
  CANCELLING: 'CANCELLING',
  ROLLBACK: 'ROLLBACK',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  ABENDED: 'ABENDED',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export const ALL_STATUSES: readonly JobStatus[] = Object.values(JobStatus);

export const STATUS_DESCRIPTIONS: Readonly<Record<JobStatus, string>> = {
  CREATED: 'Configured, never submitted.',
  WAITING_APPROVAL: 'Must be approved before it can run.',
  PENDING: 'Queued; a worker may claim it at once, or for the RUN step once scheduledAt has passed.',
  RUNNING: 'Claimed by a worker that keeps heartbeating.',
  TRAPPED: "The worker hit an error and waits for a person's decision.",
  TRAP_PAUSED: "The trap's timeout is paused while someone investigates.",
  CANCELLING: 'Cancel requested; the worker has not confirmed yet.',
  ROLLBACK: 'The worker is undoing its work.',
  SUCCEEDED: 'Finished as defined.',
  FAILED: 'Finished with an error.',
  CANCELLED: 'Stopped by a person.',
  REJECTED: 'An approver said no.',
  EXPIRED: 'Not started before maxStartAt.',
  ABENDED: 'Its worker vanished (heartbeat lost).',
};

export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'ABENDED'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Statuses in which a worker holds the job (a lease and a heartbeat). */
export const WORKER_HELD_STATUSES: readonly JobStatus[] = ['RUNNING', 'TRAPPED', 'TRAP_PAUSED', 'CANCELLING', 'ROLLBACK'];

export const JobTab = { ACTIVE: 'ACTIVE', COMPLETED: 'COMPLETED', FAILED: 'FAILED', ALL: 'ALL' } as const;
export type JobTab = (typeof JobTab)[keyof typeof JobTab];

export const TAB_STATUSES: Readonly<Record<JobTab, readonly JobStatus[]>> = {
  /** Everything submitted that has not ended. */
  ACTIVE: ALL_STATUSES.filter((status) => status !== 'CREATED' && !isTerminal(status)),
  COMPLETED: ['SUCCEEDED'],
  FAILED: ['FAILED', 'ABENDED', 'EXPIRED'],
  ALL: ALL_STATUSES,
};

export const JobStep = { PRE: 'PRE', RUN: 'RUN', POST: 'POST' } as const;
export type JobStep = (typeof JobStep)[keyof typeof JobStep];
export const STEP_ORDER: readonly JobStep[] = ['PRE', 'RUN', 'POST'];
/** The one step that waits for scheduledAt (Clarive: PRE runs at any moment, RUN at its date). */
export const SCHEDULED_STEP: JobStep = 'RUN';

/** Who may cause a transition: a person through a mutation, the job's worker, or the daemon. */
export type TransitionActor = 'user' | 'worker' | 'daemon';

export interface Transition {
  readonly from: readonly JobStatus[];
  readonly by: TransitionActor;
  /** Present when the target is fixed; transitions whose target depends on the job say so in `note`. */
  readonly to: JobStatus | 'PENDING_OR_APPROVAL' | 'DELETED';
  readonly note?: string;
}

/** Every legal transition, keyed by the event that causes it. Anything else is a CONFLICT. */
export const TRANSITIONS = {
  startJob: { from: ['CREATED'], by: 'user', to: 'PENDING_OR_APPROVAL' },
  approveJob: { from: ['WAITING_APPROVAL'], by: 'user', to: 'PENDING' },
  rejectJob: { from: ['WAITING_APPROVAL'], by: 'user', to: 'REJECTED' },
  claim: { from: ['PENDING'], by: 'worker', to: 'RUNNING', note: 'at once for PRE and POST; RUN once scheduledAt <= now' },
  expire: { from: ['PENDING', 'WAITING_APPROVAL'], by: 'daemon', to: 'EXPIRED', note: 'once now > maxStartAt' },
  rescheduleJob: { from: ['PENDING', 'WAITING_APPROVAL', 'REJECTED', 'EXPIRED'], by: 'user', to: 'PENDING_OR_APPROVAL' },
  cancelQueued: { from: ['CREATED', 'PENDING', 'WAITING_APPROVAL'], by: 'user', to: 'CANCELLED' },
  cancelHeld: { from: ['RUNNING', 'TRAPPED', 'TRAP_PAUSED', 'ROLLBACK'], by: 'user', to: 'CANCELLING' },
  confirmCancel: { from: ['CANCELLING'], by: 'worker', to: 'CANCELLED' },
  cancelGraceElapsed: { from: ['CANCELLING'], by: 'daemon', to: 'CANCELLED' },
  cancelWorkerLost: {
    from: ['CANCELLING'],
    by: 'daemon',
    to: 'CANCELLED',
    note: 'once the heartbeat is older than the timeout: a person decided, so never ABENDED',
  },
  trap: { from: ['RUNNING'], by: 'worker', to: 'TRAPPED' },
  pauseTrap: { from: ['TRAPPED'], by: 'user', to: 'TRAP_PAUSED' },
  resolveTrapContinue: { from: ['TRAPPED', 'TRAP_PAUSED'], by: 'user', to: 'RUNNING', note: 'RETRY or SKIP' },
  resolveTrapAbort: { from: ['TRAPPED', 'TRAP_PAUSED'], by: 'user', to: 'FAILED', note: 'ABORT' },
  trapTimeout: { from: ['TRAPPED'], by: 'daemon', to: 'FAILED' },
  startRollback: { from: ['RUNNING'], by: 'worker', to: 'ROLLBACK' },
  completeStep: { from: ['RUNNING'], by: 'worker', to: 'RUNNING', note: 'completeStep: the next step runs on the same lease' },
  awaitSchedule: {
    from: ['RUNNING'],
    by: 'worker',
    to: 'PENDING',
    note: 'completeStep of PRE before scheduledAt: PENDING at step RUN, the lease ends; claimed again once scheduledAt <= now',
  },
  complete: { from: ['RUNNING'], by: 'worker', to: 'SUCCEEDED' },
  fail: { from: ['RUNNING', 'ROLLBACK'], by: 'worker', to: 'FAILED' },
  secretsUnreadable: { from: ['RUNNING'], by: 'worker', to: 'FAILED', note: 'at claim: the secrets cannot be decrypted' },
  heartbeatLost: { from: ['RUNNING', 'ROLLBACK', 'TRAPPED'], by: 'daemon', to: 'ABENDED' },
  restartJob: { from: TERMINAL_STATUSES, by: 'user', to: 'PENDING_OR_APPROVAL', note: 'attempt + 1' },
  deleteJob: { from: ['CREATED', ...TERMINAL_STATUSES], by: 'user', to: 'DELETED' },
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;
