import {
  getOperationAST,
  Kind,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  OperationTypeNode,
} from 'graphql';
import { collectFields } from 'graphql/execution/collectFields';
import { getVariableValues } from 'graphql/execution/values';
import type { Principal } from '../auth/principal';
import { ExceedsBurstError, OperationRefusedError, RateLimitedError } from '../errors';
import { LIMITS } from './limits';
import { operationCost } from './operation-cost';
import type { RateLimiter } from './rate-limiter';
import { isWorkerProtocol } from './worker-protocol';

/** The mutations of the worker protocol (marked `@Extensions(WORKER_PROTOCOL)`), by name. */
export function workerMutations(schema: GraphQLSchema): ReadonlySet<string> {
  return new Set(
    Object.values(schema.getMutationType()?.getFields() ?? {})
      .filter(isWorkerProtocol)
      .map((field) => field.name),
  );
}

export interface RateLimiters {
  readonly mutations: RateLimiter;
  readonly workerMutations: RateLimiter;
}

/**
 * What every operation must pass once its variables are known, whatever the transport: the
 * cost limit, and for mutations the principal's rate limit. Each root mutation field that will
 * run counts, so neither aliases nor fragments can multiply a mutation past the limit.
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
  if (operation.operation !== OperationTypeNode.MUTATION || coerced.errors !== undefined) return; // bad variables: nothing will run
  const mutationType = schema.getMutationType();
  if (mutationType == null) return;
  // The root fields execution will run: fragments expanded, @skip/@include applied, one per
  // response name (graphql merges same-named fields into one call).
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  let user = 0;
  let worker = 0;
  for (const [, nodes] of collectFields(schema, fragments, coerced.coerced, mutationType, operation.selectionSet)) {
    const name = nodes[0]?.name.value;
    if (name === undefined || name === '__typename') continue;
    if (isWorkerProtocol(mutationType.getFields()[name])) worker += 1;
    else user += 1;
  }
  for (const [count, limiter, kind] of [
    [user, limiters.mutations, 'mutations'],
    [worker, limiters.workerMutations, 'worker mutations'],
  ] as const) {
    if (count > limiter.burst) throw new ExceedsBurstError(kind, count, limiter.burst);
  }
  // Refused whole: neither budget is spent unless both allow the operation.
  const wait = Math.max(
    user === 0 ? 0 : limiters.mutations.wait(principal.id, user),
    worker === 0 ? 0 : limiters.workerMutations.wait(principal.id, worker),
  );
  if (wait > 0) throw new RateLimitedError(wait);
  if (user > 0) limiters.mutations.take(principal.id, user);
  if (worker > 0) limiters.workerMutations.take(principal.id, worker);
}

const MAX_JSON_DEPTH = 64;
// eslint-disable-next-line no-control-regex -- NUL is what Postgres text cannot store
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Documents whose literals were found storable: cached documents come back with every request. */
const storableDocuments = new WeakSet<DocumentNode>();

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
  if (!storableDocuments.has(document)) {
    visit(document, { StringValue: (node) => check(node.value, 'a string in the document') });
    storableDocuments.add(document);
  }
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
