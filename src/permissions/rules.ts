/**
 * The permission vocabulary (DOMAIN.md, "Permissions"). Roles store CASL raw rules over these
 * actions and subjects; admin-written rules are validated against these allowlists.
 */
export const Action = {
  view_monitor: 'view_monitor',
  create: 'create',
  restart: 'restart',
  cancel: 'cancel',
  delete: 'delete',
  reschedule: 'reschedule',
  approve: 'approve',
  approve_all: 'approve_all',
  resolve_trap: 'resolve_trap',
  manage_permissions: 'manage_permissions',
  manage_alerts: 'manage_alerts',
  execute: 'execute',
} as const;
export type Action = (typeof Action)[keyof typeof Action];
/** CASL's wildcard action: every action. */
export type AnyAction = Action | 'manage';

export const ACTION_DESCRIPTIONS: Readonly<Record<Action, string>> = {
  view_monitor: 'See the job: without it the job does not exist for the user.',
  create: 'Create and start jobs.',
  restart: 'Rerun a finished job from a step.',
  cancel: 'Cancel a job.',
  delete: 'Delete a finished or never-started job.',
  reschedule: 'Set a new schedule for a queued, rejected or expired job.',
  approve: 'Approve or reject jobs that name the user among their approvers.',
  approve_all: 'Approve or reject any job, named or not.',
  resolve_trap: "Pause a trapped job's timeout and decide the trap (RETRY, SKIP or ABORT).",
  manage_permissions: 'Create roles and grant them (subject Permission).',
  manage_alerts: 'Create alert rules that send webhooks about the jobs one may view (subject Alert).',
  execute: 'Claim and run jobs as a worker.',
};

/** Subjects: jobs, the permission system, alert rules. `all` is CASL's wildcard. */
export type Subject = 'Job' | 'Permission' | 'Alert' | 'all';

/** The subject each action applies to. */
export function subjectOf(action: Action): Subject {
  return action === 'manage_permissions' ? 'Permission' : action === 'manage_alerts' ? 'Alert' : 'Job';
}

/** The job fields a rule may put conditions on. */
export const JOB_CONDITION_FIELDS = ['scope', 'type', 'ownerId'] as const;
export type JobConditionField = (typeof JOB_CONDITION_FIELDS)[number];

/** A CASL rule as stored in `roles.rules`. */
export interface RawRule {
  action: AnyAction | AnyAction[];
  subject: Subject | Subject[];
  conditions?: Record<string, unknown>;
  inverted?: boolean;
  reason?: string;
}

/** Stands for the grantee's user id inside stored conditions (e.g. the built-in `own-jobs`). */
export const USER_ID_PLACEHOLDER = '${user.id}';
