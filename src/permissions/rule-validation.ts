import { createMongoAbility } from '@casl/ability';
import { rulesToAST } from '@casl/ability/extra';
import { BadUserInputError } from '../errors';
import { buildAbility } from './ability';
import { jobPredicate } from './rules-to-sql';
import { Action, JOB_CONDITION_FIELDS, type RawRule, subjectOf, USER_ID_PLACEHOLDER } from './rules';
import { SqlParams } from '../db/sql-params';

const MAX_RULES = 50;
const MAX_LIST = 100;
const MAX_VALUE_LENGTH = 300;
const RULE_KEYS = new Set(['action', 'subject', 'conditions', 'inverted', 'reason']);
const OPERATORS = new Set(['$eq', '$ne', '$in', '$nin']);
const KNOWN_ACTIONS = new Set<string>(Object.values(Action));

/**
 * Checks rules an admin writes before they are stored: only known actions on their own
 * subject, conditions only on job fields that exist, only equality and list operators (no
 * `$regex`, `$where`, `$elemMatch`), nothing over-broad (`manage` or `all`: grant the
 * built-in admin role for that), and no denial of manage_permissions (see deleteGrant). Every
 * message names the rule and the problem.
 */
export function validateRules(input: unknown): RawRule[] {
  if (!Array.isArray(input)) throw invalid('rules must be a JSON array of rules');
  if (input.length === 0) throw invalid('rules must hold at least one rule');
  if (input.length > MAX_RULES) throw invalid(`rules may hold at most ${MAX_RULES} rules`);
  const rules = input.map((rule, index) => validateRule(rule, `rules[${index}]`));
  // Last line of defence: CASL must accept them and they must translate to SQL for every action.
  try {
    createMongoAbility(rules as never);
    const ability = buildAbility('validation-user', [{ scope: null, rules }]);
    for (const action of Object.values(Action)) {
      rulesToAST(ability, action, 'Job');
      jobPredicate(ability, action, new SqlParams());
    }
  } catch (error) {
    throw invalid(`rules are not valid CASL rules: ${error instanceof Error ? error.message : String(error)}`);
  }
  return rules;
}

function invalid(message: string): BadUserInputError {
  return new BadUserInputError(message, 'rules');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function validateRule(rule: unknown, where: string): RawRule {
  if (!isObject(rule)) throw invalid(`${where} must be an object`);
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.has(key)) throw invalid(`${where}.${key} is not allowed (rules have action, subject, conditions, inverted, reason)`);
  }
  const actions = list(rule['action'], `${where}.action`);
  const subjects = list(rule['subject'], `${where}.subject`);
  for (const action of actions) {
    if (action === 'manage') throw invalid(`${where}.action "manage" is over-broad: list the actions, or grant the built-in admin role`);
    if (!KNOWN_ACTIONS.has(action)) {
      throw invalid(`${where}.action "${action}" is unknown (known: ${Object.values(Action).join(', ')})`);
    }
  }
  for (const subject of subjects) {
    if (subject === 'all') throw invalid(`${where}.subject "all" is over-broad: use "Job", "Permission" or "Alert"`);
    if (subject !== 'Job' && subject !== 'Permission' && subject !== 'Alert') {
      throw invalid(`${where}.subject "${subject}" is unknown (known: Job, Permission, Alert)`);
    }
  }
  for (const action of actions) {
    const subject = subjectOf(action as Action);
    if (!subjects.includes(subject) || subjects.length > 1) {
      throw invalid(`${where}: action "${action}" applies to the subject "${subject}" only`);
    }
  }
  if (rule['inverted'] !== undefined && typeof rule['inverted'] !== 'boolean') throw invalid(`${where}.inverted must be a boolean`);
  // Denying rules win over every grant, the admin role's included: one granted to the last
  // administrator would lock everybody out of permission administration for good.
  if (rule['inverted'] === true && actions.includes('manage_permissions')) {
    throw invalid(`${where}: a rule denying manage_permissions could lock every administrator out; revoke the grant that gives it instead`);
  }
  if (rule['reason'] !== undefined && (typeof rule['reason'] !== 'string' || rule['reason'].length > 200)) {
    throw invalid(`${where}.reason must be a string of at most 200 characters`);
  }
  const validated: RawRule = {
    action: actions as RawRule['action'],
    subject: subjects as RawRule['subject'],
    ...(rule['inverted'] === true ? { inverted: true } : {}),
    ...(typeof rule['reason'] === 'string' ? { reason: rule['reason'] } : {}),
  };
  if (rule['conditions'] !== undefined) {
    if (!subjects.includes('Job'))
      throw invalid(`${where}.conditions: rules on ${subjects.join(', ')} take no conditions (only rules on Job do)`);
    validated.conditions = validateConditions(rule['conditions'], `${where}.conditions`);
  }
  return validated;
}

function list(value: unknown, where: string): string[] {
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items) || items.length === 0 || !items.every((item) => typeof item === 'string')) {
    throw invalid(`${where} must be a string or a non-empty array of strings`);
  }
  return [...new Set(items)];
}

function validateConditions(conditions: unknown, where: string): Record<string, unknown> {
  if (!isObject(conditions) || Object.keys(conditions).length === 0) throw invalid(`${where} must be a non-empty object`);
  const result: Record<string, unknown> = {};
  for (const [field, condition] of Object.entries(conditions)) {
    if (!(JOB_CONDITION_FIELDS as readonly string[]).includes(field)) {
      throw invalid(`${where}.${field}: jobs have no such field for rules (fields: ${JOB_CONDITION_FIELDS.join(', ')})`);
    }
    if (isObject(condition)) {
      const operators = Object.keys(condition);
      if (operators.length === 0) throw invalid(`${where}.${field} must name an operator`);
      for (const operator of operators) {
        if (!OPERATORS.has(operator)) {
          throw invalid(`${where}.${field}: operator ${operator} is not allowed (allowed: ${[...OPERATORS].join(', ')})`);
        }
        const operand = condition[operator];
        if (operator === '$in' || operator === '$nin') {
          if (!Array.isArray(operand) || operand.length === 0 || operand.length > MAX_LIST) {
            throw invalid(`${where}.${field}.${operator} must be an array of 1 to ${MAX_LIST} strings`);
          }
          operand.forEach((item, index) => checkValue(field, item, `${where}.${field}.${operator}[${index}]`));
        } else {
          checkValue(field, operand, `${where}.${field}.${operator}`);
        }
      }
      result[field] = condition;
    } else {
      checkValue(field, condition, `${where}.${field}`);
      result[field] = condition;
    }
  }
  return result;
}

function checkValue(field: string, value: unknown, where: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE_LENGTH) {
    throw invalid(`${where} must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters`);
  }
  if (value === USER_ID_PLACEHOLDER && field !== 'ownerId') {
    throw invalid(`${where}: ${USER_ID_PLACEHOLDER} can only stand for an ownerId`);
  }
}
