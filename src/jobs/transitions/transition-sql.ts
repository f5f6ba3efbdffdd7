import { TRANSITIONS, type JobStatus, type TransitionActor, type TransitionName } from '../job-status';

// The transitions table (job-status.ts) as SQL: what a change may start from, the status it
// writes, and who may cause it. Code writes statuses through these, never by hand.

/** Statuses as SQL literals, for an `IN (...)` list (literals keep partial indexes usable). */
export function statusesSql(statuses: readonly JobStatus[]): string {
  return statuses.map((status) => `'${status}'`).join(', ');
}

/**
 * The status a transition writes, as an SQL expression over the row `j`: the table's `to`; for
 * PENDING_OR_APPROVAL, WAITING_APPROVAL when the job requires approval, else PENDING. A
 * transition that deletes the job writes none: asking for its status is a mistake.
 */
export function targetStatusSql(name: TransitionName): string {
  const to: JobStatus | 'PENDING_OR_APPROVAL' | 'DELETED' = TRANSITIONS[name].to;
  if (to === 'DELETED') throw new Error(`The transition ${name} deletes the job: it writes no status`);
  if (to === 'PENDING_OR_APPROVAL') return `CASE WHEN j.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`;
  return `'${to}'`;
}

/** The statuses any of these transitions starts from, each once, in the table's order. */
export function fromOf(names: readonly TransitionName[]): readonly JobStatus[] {
  return [...new Set(names.flatMap((name): readonly JobStatus[] => TRANSITIONS[name].from))];
}

/**
 * Checks that `by` may cause each of these transitions, and that a deletion is a transition to
 * DELETED (and an update is not): a mismatch is a mistake in the code, never the user's.
 */
export function assertTransitions(names: readonly TransitionName[], by: TransitionActor, deletes: boolean): void {
  if (names.length === 0) throw new Error('A job change names no transition');
  for (const name of names) {
    const transition = TRANSITIONS[name];
    if (transition.by !== by) throw new Error(`The transition ${name} is caused by the ${transition.by}, not by the ${by}`);
    if ((transition.to === 'DELETED') !== deletes)
      throw new Error(`The transition ${name} ${deletes ? 'does not delete' : 'deletes'} the job (its target is ${transition.to})`);
  }
}
