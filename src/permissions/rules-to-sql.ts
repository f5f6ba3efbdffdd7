import { rulesToAST } from '@casl/ability/extra';
import { CompoundCondition, type Condition, FieldCondition } from '@ucast/core';
import type { AppAbility } from './ability';
import type { AnyAction } from './rules';
import { scopeFromRegex, subtreeBounds } from './scope';
import type { SqlParams } from '../db/sql-params';

export type ColumnMap = Readonly<Record<string, { column: string; array: boolean }>>;

/** How each job field that rules may name is stored in `jobs`. */
const JOB_COLUMNS: ColumnMap = {
  scope: { column: 'scope', array: false },
  type: { column: 'type', array: false },
  ownerId: { column: 'owner_id', array: false },
  approvers: { column: 'approvers', array: true },
};

/**
 * The ability's rules for `action` on jobs as a SQL predicate over the `jobs` table (optionally
 * aliased), so that permission filtering happens inside the query: counts and pages are exact.
 * Only operators that stored rules may use are translated; anything else is a programming error.
 */
export function jobPredicate(
  ability: AppAbility,
  action: AnyAction,
  params: SqlParams,
  alias?: string,
  columns: ColumnMap = JOB_COLUMNS,
): string {
  const ast = rulesToAST(ability, action, 'Job');
  if (ast === null) return 'FALSE';
  return conditionToSql(ast, params, alias === undefined ? '' : `${alias}.`, columns);
}

/** The job facts copied onto rows that outlive the job (timeline events, notifications). */
export const JOB_SNAPSHOT_COLUMNS: ColumnMap = {
  scope: { column: 'job_scope', array: false },
  type: { column: 'job_type', array: false },
  ownerId: { column: 'job_owner_id', array: false },
};

function conditionToSql(condition: Condition, params: SqlParams, prefix: string, columns: ColumnMap): string {
  if (condition instanceof CompoundCondition) {
    const parts = (condition.value as Condition[]).map((inner) => conditionToSql(inner, params, prefix, columns));
    switch (condition.operator) {
      case 'and':
        return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
      case 'or':
        return parts.length === 0 ? 'FALSE' : `(${parts.join(' OR ')})`;
      case 'not':
        return `NOT (${parts.join(' AND ')})`;
      default:
        throw new Error(`unsupported compound operator in a permission rule: ${condition.operator}`);
    }
  }
  if (!(condition instanceof FieldCondition)) throw new Error('unsupported condition in a permission rule');
  const field = columns[condition.field];
  if (field === undefined) throw new Error(`unsupported field in a permission rule: ${String(condition.field)}`);
  const column = `${prefix}${field.column}`;
  const value: unknown = condition.value;
  switch (condition.operator) {
    case 'eq':
      return field.array ? `${params.add(value)} = ANY(${column})` : `${column} = ${params.add(value)}`;
    case 'ne':
      return field.array ? `NOT (${params.add(value)} = ANY(${column}))` : `${column} <> ${params.add(value)}`;
    case 'in':
      return field.array ? `${column} && ${params.add(value)}::text[]` : `${column} = ANY(${params.add(value)}::text[])`;
    case 'nin':
      return field.array ? `NOT (${column} && ${params.add(value)}::text[])` : `NOT (${column} = ANY(${params.add(value)}::text[]))`;
    case 'regex': {
      const source = value instanceof RegExp ? value.source : String(value);
      const scope = condition.field === 'scope' ? scopeFromRegex(source) : undefined;
      if (scope === undefined) throw new Error('only scope-subtree regexes are supported in permission rules');
      const { lower, upper } = subtreeBounds(scope);
      return `(${column} = ${params.add(scope)} OR (${column} >= ${params.add(lower)} AND ${column} < ${params.add(upper)}))`;
    }
    default:
      throw new Error(`unsupported operator in a permission rule: ${condition.operator}`);
  }
}
