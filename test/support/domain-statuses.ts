import type { JobStatus } from '../../src/jobs/job-status';

// DOMAIN.md's statuses, restated here on purpose (not imported from the code's tables): the
// transition and bulk-action tests check the code against the contract, not against itself.

export const ALL_STATUSES: JobStatus[] = [
  'CREATED',
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
  'REJECTED',
  'EXPIRED',
  'ABENDED',
];
export const TERMINAL_STATUSES: JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'ABENDED'];
/** The Active tab's statuses. */
export const ACTIVE_STATUSES: JobStatus[] = ['WAITING_APPROVAL', 'PENDING', 'RUNNING', 'TRAPPED', 'TRAP_PAUSED', 'CANCELLING', 'ROLLBACK'];
