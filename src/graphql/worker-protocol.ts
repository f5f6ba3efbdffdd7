import type { GraphQLField } from 'graphql';

/**
 * The extension that marks a mutation of the worker protocol (claim, heartbeat, report, end):
 * `@Extensions(WORKER_PROTOCOL)`. Machines call those in a loop, so they spend their own, larger
 * rate budget (operation-guard.ts); every other mutation is a person's action.
 */
export const WORKER_PROTOCOL = { workerProtocol: true } as const;

export function isWorkerProtocol(field: GraphQLField<unknown, unknown> | null | undefined): boolean {
  return field?.extensions?.['workerProtocol'] === true;
}
