import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { getOperationAST, GraphQLError, Kind, type DocumentNode, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import { Counter, Gauge, Histogram } from 'prom-client';
import { boundedLabel, processRegistry, SECONDS_BUCKETS } from './registry';

/**
 * GraphQL operations over HTTP (an Apollo plugin) and over the WebSocket (graphql-ws hooks):
 * how many, how long, and their errors by code. Labels stay bounded: the operation's type, its
 * name (the first 200 distinct names, then `other`) and the error code.
 */
type Transport = 'http' | 'ws';

const requests = new Counter({
  name: 'jobwatch_graphql_requests_total',
  help: 'GraphQL operations by transport, type (query, mutation, subscription; unknown when it did not parse) and operation name',
  labelNames: ['transport', 'type', 'operation'] as const,
  registers: [processRegistry],
});
const errors = new Counter({
  name: 'jobwatch_graphql_errors_total',
  help: 'Errors in GraphQL answers by transport, type, operation name and extensions.code',
  labelNames: ['transport', 'type', 'operation', 'code'] as const,
  registers: [processRegistry],
});
const duration = new Histogram({
  name: 'jobwatch_graphql_request_duration_seconds',
  help: 'Time from an HTTP GraphQL request reaching Apollo to its answer, by type and operation name',
  labelNames: ['type', 'operation'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [processRegistry],
});
const subscriptions = new Gauge({
  name: 'jobwatch_subscriptions',
  help: 'Subscriptions open on this instance, by root field',
  labelNames: ['field'] as const,
  registers: [processRegistry],
});

const operationLabel = boundedLabel(200, /^[_A-Za-z][_0-9A-Za-z]{0,99}$/);
const codeLabel = (error: GraphQLFormattedError): string => {
  const code = error.extensions?.['code'];
  return typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code) ? code : 'OTHER';
};

/** The request counter and histogram of each label set, found once: an observation then costs no lookup. */
const children = new Map<
  string,
  { readonly requests: Counter.Internal; readonly duration: Histogram.Internal<'type' | 'operation'> | undefined }
>();
function child(transport: Transport, type: string, operation: string) {
  const key = `${transport}\u0000${type}\u0000${operation}`;
  let found = children.get(key);
  if (found === undefined) {
    found = {
      requests: requests.labels(transport, type, operation),
      duration: transport === 'http' ? duration.labels(type, operation) : undefined,
    };
    children.set(key, found);
  }
  return found;
}

function countErrors(transport: Transport, type: string, operation: string, list: readonly GraphQLFormattedError[] | undefined): void {
  if (list === undefined) return;
  for (const error of list) errors.inc({ transport, type, operation, code: codeLabel(error) });
}

/** Apollo: every HTTP GraphQL request that reached it, timed from its start to its answer. */
export function graphqlMetricsPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operation, operationName, document, request, response }) {
          // A document that parsed but did not validate still names its operation.
          const named = operation ?? (document === undefined ? undefined : getOperationAST(document, request.operationName));
          const type = named?.operation ?? 'unknown';
          const name = observeHttpOperation(type, operationName ?? named?.name?.value, started);
          if (response.body.kind === 'single') countErrors('http', type, name, response.body.singleResult.errors);
        },
      };
    },
  };
}

/**
 * An HTTP GraphQL operation answered, timed from `started` (performance.now()): by Apollo (the
 * plugin above) or by the hot-query path in front of it. Answers the operation's label.
 */
export function observeHttpOperation(type: string, operationName: string | null | undefined, started: number): string {
  const name = operationLabel(operationName, '(anonymous)');
  const found = child('http', type, name);
  found.requests.inc();
  found.duration?.observe((performance.now() - started) / 1000);
  return name;
}

/** A request refused before Apollo saw it (its token, when the context is made). */
export function countRefusedRequest(error: unknown): void {
  child('http', 'unknown', '(anonymous)').requests.inc();
  const code = error instanceof GraphQLError ? error.extensions['code'] : undefined;
  countErrors('http', 'unknown', '(anonymous)', [{ message: '', extensions: { code: code ?? 'INTERNAL_SERVER_ERROR' } }]);
}

/** The type, name and first root field of the operation a document runs. */
function describe(document: DocumentNode, operationName: string | null | undefined): { type: string; name: string; field: string } {
  const operation = getOperationAST(document, operationName ?? undefined);
  const first = operation?.selectionSet.selections[0];
  return {
    type: operation?.operation ?? 'unknown',
    name: operationLabel(operationName ?? operation?.name?.value, '(anonymous)'),
    field: first?.kind === Kind.FIELD ? first.name.value : 'other',
  };
}

/** A document refused before it was parsed for running: its type and name as its text starts (no parse for a label). */
function describeText(query: string | undefined, operationName: string | null | undefined): { type: string; name: string } {
  const match = /^\s*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/.exec(query ?? '');
  return { type: match?.[1] ?? 'unknown', name: operationLabel(operationName ?? match?.[2], '(anonymous)') };
}

/** An open subscription's count: its field, whether it ended, and the iterator's own return(). */
interface OpenCount {
  readonly field: string;
  ended: boolean;
  readonly return: (value?: unknown) => Promise<unknown>;
}

const OPEN_COUNT = Symbol('jobwatch.openSubscriptionCount');

type CountedIterator = { return: (value?: unknown) => Promise<unknown>; [OPEN_COUNT]?: OpenCount };

/** Counts a subscription down once, whichever way it ends. */
function endCount(count: OpenCount | undefined): void {
  if (count === undefined || count.ended) return;
  count.ended = true;
  subscriptions.dec({ field: count.field });
}

/**
 * Put in place of a counted iterator's return(); one function for all of them (a closure, a
 * bound function and prom-client's labelled child per subscription were about 700 bytes each,
 * thousands of subscriptions at once).
 */
function countedReturn(this: CountedIterator, value?: unknown): Promise<unknown> {
  const count = this[OPEN_COUNT] as OpenCount;
  endCount(count);
  return count.return.call(this, value);
}

/**
 * graphql-ws hooks (spread into useServer's options, and `errors` called where errors are
 * formatted). An open subscription is counted from its start until it ends: the client
 * completes it, the socket closes (graphql-ws then calls return()), or the stream ends.
 */
export const wsMetrics = {
  /** For useServer's options. */
  hooks: { onOperation, onComplete },
  /** From useServer's onError: an error ends its operation (graphql-ws removes it before onComplete). */
  ended: onComplete,
  /** Errors of a WebSocket operation, before it ran (its payload) or in its result (its arguments): counted, and handed back. */
  errors<E extends GraphQLFormattedError>(
    operation:
      | { readonly document: DocumentNode; readonly operationName?: string | null | undefined }
      | { readonly query?: string; readonly operationName?: string | null | undefined },
    list: E[],
  ): E[] {
    const { type, name } =
      'document' in operation
        ? describe(operation.document, operation.operationName)
        : describeText(operation.query, operation.operationName);
    countErrors('ws', type, name, list);
    return list;
  },
};

function onOperation(_ctx: object, _id: string, _payload: unknown, args: ExecutionArgs, result: unknown): undefined {
  const { type, name, field } = describe(args.document, args.operationName);
  child('ws', type, name).requests.inc();
  if (type !== 'subscription' || typeof (result as { return?: unknown }).return !== 'function') return undefined;
  const iterator = result as CountedIterator;
  subscriptions.inc({ field });
  iterator[OPEN_COUNT] = { field, ended: false, return: iterator.return };
  iterator.return = countedReturn;
  return undefined;
}

/**
 * A stream that ended by itself, or with an error (its return() is not called then): graphql-ws
 * still holds it in ctx.subscriptions when it calls onComplete and onError.
 */
function onComplete(ctx: object, id: string): void {
  const open = (ctx as { subscriptions?: Record<string, unknown> }).subscriptions?.[id] as CountedIterator | null | undefined;
  endCount(open?.[OPEN_COUNT]);
}
