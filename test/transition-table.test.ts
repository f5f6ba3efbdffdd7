import { TRANSITIONS, type TransitionName } from '../src/jobs/job-status';
import { assertTransitions, fromOf, targetStatusSql } from '../src/jobs/transitions/transition-sql';

/**
 * The transitions table drives the code: a change names its transitions and who causes them,
 * and the table says whether that is allowed, what it starts from and what it writes.
 */
const NAMES = Object.keys(TRANSITIONS) as TransitionName[];

test.each(NAMES)('%s: only its own actor may cause it', (name) => {
  const { by, to } = TRANSITIONS[name];
  const deletes = to === 'DELETED';
  expect(() => assertTransitions([name], by, deletes)).not.toThrow();
  for (const other of (['user', 'worker', 'daemon'] as const).filter((actor) => actor !== by)) {
    expect(() => assertTransitions([name], other, deletes)).toThrow(`caused by the ${by}, not by the ${other}`);
  }
  // A deletion is a transition to DELETED, and nothing else deletes.
  expect(() => assertTransitions([name], by, !deletes)).toThrow(deletes ? `${name} deletes the job` : `${name} does not delete`);
});

test.each(NAMES)("%s writes the table's status", (name) => {
  const { to } = TRANSITIONS[name];
  if (to === 'DELETED') expect(() => targetStatusSql(name)).toThrow('writes no status');
  else if (to === 'PENDING_OR_APPROVAL')
    expect(targetStatusSql(name)).toBe(`CASE WHEN j.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`);
  else expect(targetStatusSql(name)).toBe(`'${to}'`);
});

test('a change names at least one transition, and starts from the union of their sources, each once', () => {
  expect(() => assertTransitions([], 'user', false)).toThrow('names no transition');
  const two = NAMES.filter((name) => TRANSITIONS[name].by === 'user').slice(0, 2);
  const union = [...new Set(two.flatMap((name) => TRANSITIONS[name].from))];
  expect(fromOf(two)).toEqual(union);
});
