import { getOperationAST, Kind, visit, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import type { Principal } from '../auth/principal';
import { OperationRefusedError, RateLimitedError } from './errors';
import { LIMITS } from './limits';
import { operationCost } from './operation-cost';
import type { RateLimiter } from './rate-limiter';

/** The worker protocol: machines calling in a loop get their own, larger budget. */
const WORKER_MUTATIONS = new Set(['claimJob', 'heartbeat', 'reportProgress', 'completeJob', 'failJob', 'trapJob', 'startRollback', 'confirmCancel']);

export interface RateLimiters {
  readonly mutations: RateLimiter;
  readonly workerMutations: RateLimiter;
}

/**
 * What every operation must pass once its variables are known, whatever the transport: the
 * cost limit, and for mutations the principal's rate limit. Each root mutation field counts,
 * so aliases cannot multiply a mutation past the limit.
 */
export function guardOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>>,
  principal: Principal,
  limiters: RateLimiters,
): void {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (operation == null) return;
  assertStorableInput(document, variables);
  // The cost with the variables as execution will see them (declared defaults included).
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  const cost = operationCost(schema, document, operation, coerced.coerced ?? variables);
  if (cost > LIMITS.maxCost) {
    throw new OperationRefusedError(
      `The operation is too expensive (cost ${cost}, limit ${LIMITS.maxCost}): ask for fewer items (first) or fewer nested lists`,
    );
  }
  if (operation.operation !== 'mutation') return;
  let user = 0;
  let worker = 0;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) {
      user += 1;
      continue;
    }
    if (WORKER_MUTATIONS.has(selection.name.value)) worker += 1;
    else user += 1;
  }
  const wait = Math.max(
    user === 0 ? 0 : limiters.mutations.take(principal.id, user),
    worker === 0 ? 0 : limiters.workerMutations.take(principal.id, worker),
  );
  if (wait > 0) throw new RateLimitedError(wait);
}

const MAX_JSON_DEPTH = 64;
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Text Postgres cannot store (NUL, lone UTF-16 surrogates) and JSON nested deeper than anyone
 * means are refused up front, in literals and variables alike, for every argument at once.
 */
function assertStorableInput(document: DocumentNode, variables: Readonly<Record<string, unknown>>): void {
  const check = (text: string, where: string) => {
    if (UNSTORABLE.test(text)) {
      throw new OperationRefusedError(`${where} contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored`);
    }
  };
  visit(document, { StringValue: (node) => check(node.value, 'a string in the document') });
  const stack: Array<{ value: unknown; depth: number; where: string }> = [{ value: variables, depth: 0, where: 'the variables' }];
  while (stack.length > 0) {
    const { value, depth, where } = stack.pop() as { value: unknown; depth: number; where: string };
    if (typeof value === 'string') check(value, where);
    else if (value !== null && typeof value === 'object') {
      if (depth > MAX_JSON_DEPTH) throw new OperationRefusedError(`${where} is nested deeper than ${MAX_JSON_DEPTH} levels`);
      for (const [key, inner] of Object.entries(value)) {
        check(key, where);
        stack.push({ value: inner, depth: depth + 1, where: depth === 0 ? `variable $${key}` : where });
      }
    }
  }
}
