import { createMongoAbility, subject as asSubject, type ForcedSubject, type MongoAbility } from '@casl/ability';
import { type AnyAction, type RawRule, type Subject, USER_ID_PLACEHOLDER } from './rules';
import { scopeRegex } from './scope';

/** The job fields that rules can look at. */
export interface JobFacts {
  readonly scope: string;
  readonly type: string;
  readonly ownerId: string;
  readonly approvers?: readonly string[];
}
export type JobSubject = JobFacts & ForcedSubject<'Job'>;
export type AppAbility = MongoAbility<[AnyAction, Subject | JobSubject]>;

/** One grant as loaded for ability building: the role's rules and the grant's scope. */
export interface GrantRules {
  readonly scope: string | null;
  readonly rules: readonly RawRule[];
}

/**
 * Builds a user's ability from their grants. Allowing rules come first and denying rules last,
 * so that a `cannot` in any role wins over a `can` in another (CASL: later rules win).
 */
export function buildAbility(userId: string, grants: readonly GrantRules[]): AppAbility {
  const allow: RawRule[] = [];
  const deny: RawRule[] = [];
  for (const grant of grants) {
    for (const stored of grant.rules) {
      const rules = grant.scope === null ? [interpolate(stored, userId)] : limitToScope(interpolate(stored, userId), grant.scope);
      for (const rule of rules) (rule.inverted === true ? deny : allow).push(rule);
    }
  }
  return createMongoAbility<AppAbility>([...allow, ...deny] as never);
}

/** The CASL subject for a job row, for checks against the row itself. */
export function jobSubject(job: JobFacts): JobSubject {
  return asSubject('Job', { scope: job.scope, type: job.type, ownerId: job.ownerId, approvers: job.approvers ?? [] });
}

/** Replaces the `${user.id}` placeholder with the grantee's id, wherever it is a whole value. */
function interpolate(rule: RawRule, userId: string): RawRule {
  if (rule.conditions === undefined) return rule;
  const replace = (value: unknown): unknown => {
    if (value === USER_ID_PLACEHOLDER) return userId;
    if (Array.isArray(value)) return value.map(replace);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, replace(inner)]));
    }
    return value;
  };
  return { ...rule, conditions: replace(rule.conditions) as Record<string, unknown> };
}

/**
 * Limits a rule to a scope's subtree. Rules on jobs (and `all`, which narrows to `Job` and
 * `Alert`) get the scope condition; rules on `Permission` are dropped (permission
 * administration is never scoped); rules on `Alert` stay as they are, since an alert rule only
 * ever sees the jobs its owner may view.
 */
function limitToScope(rule: RawRule, scope: string): RawRule[] {
  const subjects = Array.isArray(rule.subject) ? rule.subject : [rule.subject];
  const result: RawRule[] = [];
  if (subjects.includes('Alert') || subjects.includes('all')) {
    const { conditions: _unscoped, ...unconditional } = rule;
    result.push({ ...unconditional, subject: 'Alert' });
  }
  if (!subjects.includes('Job') && !subjects.includes('all')) return result.map(stripUndefined);
  const conditions = { ...(rule.conditions ?? {}) };
  const existing = conditions['scope'];
  const regex = { $regex: scopeRegex(scope) };
  conditions['scope'] =
    existing === undefined
      ? regex
      : existing !== null && typeof existing === 'object' && !Array.isArray(existing)
        ? { ...existing, ...regex }
        : { $eq: existing, ...regex };
  result.push({ ...rule, subject: 'Job', conditions });
  return result.map(stripUndefined);
}

function stripUndefined(rule: RawRule): RawRule {
  const { conditions, ...rest } = rule;
  return conditions === undefined ? rest : { ...rest, conditions };
}
