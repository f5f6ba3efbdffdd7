import { getOperationAST, Kind, type DocumentNode, type GraphQLSchema } from 'graphql';
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
  const cost = operationCost(schema, document, operation, variables);
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
