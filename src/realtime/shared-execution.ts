import {
  createSourceEventStream,
  execute,
  Kind,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import type { Context } from '../app/context';
import { isViewerSpecific } from '../graphql/viewer-specific';
import { rulesKey } from './event-batch';

type Results = Map<string, ExecutionResult | Promise<ExecutionResult>>;

const documentKeys = new WeakMap<DocumentNode, { readonly text: string; readonly perViewer: boolean }>();

export interface SharedExecutionStats {
  /** Events resolved. */
  executions: number;
  /** Events answered with another subscription's resolution of the same event. */
  shared: number;
}

/**
 * graphql-ws's `subscribe`, with one execution per event for every subscription that would get
 * the same answer: the same document, operation and variables, for viewers with the same rules
 * (and the same viewer, when the document asks a field marked viewer-specific). A thousand people on one
 * job page cost one resolution of each progress event, not a thousand; what stays per
 * subscriber is the message's serialisation and its send. Subscription streams check every
 * event against their own viewer before they yield it (job-feed.ts, timeline-feed.ts), so a
 * shared answer only ever reaches viewers who may see it.
 */
export function sharedSubscriptions(): {
  readonly subscribe: (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
  readonly stats: SharedExecutionStats;
} {
  // Per event object (the hub hands one object to every subscriber of a batch): each sharing key's result.
  const results = new WeakMap<object, Results>();
  const stats: SharedExecutionStats = { executions: 0, shared: 0 };
  const interned = interning();
  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const document = documentKey(args.schema, args.document);
    const ctx = args.contextValue as Context;
    // The sharing key of the ability it was made for: made again only when the viewer's ability
    // changes, not for every event (a few hundred characters, copied and hashed each time), and
    // held once for all the subscriptions that share it, not once by each.
    let keyAbility: Context['ability'] | undefined;
    let key = '';
    return mapStream(source, (payload) => {
      if (typeof payload !== 'object' || payload === null) {
        stats.executions += 1;
        return execute({ ...args, rootValue: payload });
      }
      // The ability is the one the stream checked this event with, just before yielding it.
      if (ctx.ability !== keyAbility) {
        keyAbility = ctx.ability;
        key = interned(
          `${rulesKey(ctx.ability)}\u0000${document.perViewer ? ctx.principal.id : ''}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${document.text}`,
        );
      }
      let answers = results.get(payload);
      if (answers === undefined) {
        answers = new Map();
        results.set(payload, answers);
      }
      let result = answers.get(key);
      if (result === undefined) {
        stats.executions += 1;
        result = execute({ ...args, rootValue: payload });
        answers.set(key, result);
      } else {
        stats.shared += 1;
      }
      return result;
    });
  };
  return { subscribe, stats };
}

/** Distinct sharing keys a server keeps at most: past that its table starts again (keys held stay valid, only unshared). */
const MAX_INTERNED = 10_000;

/**
 * One string for equal keys: thousands of subscriptions on a few jobs share a few keys. Also
 * flattens it (the key is built from five pieces; the first lookup would copy them into one
 * string anyway), so its hash is computed once.
 */
function interning(): (key: string) => string {
  const table = new Map<string, string>();
  return (key) => {
    const known = table.get(key);
    if (known !== undefined) return known;
    if (table.size >= MAX_INTERNED) table.clear();
    table.set(key, key);
    return key;
  };
}

/** A document's text, and whether it asks a field marked viewer-specific (src/graphql/viewer-specific.ts). */
function documentKey(schema: GraphQLSchema, document: DocumentNode): { readonly text: string; readonly perViewer: boolean } {
  let key = documentKeys.get(document);
  if (key === undefined) {
    let perViewer = false;
    const types = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(types, {
        [Kind.FIELD]: () => {
          if (isViewerSpecific(types.getFieldDef())) perViewer = true;
        },
      }),
    );
    key = { text: print(document), perViewer };
    documentKeys.set(document, key);
  }
  return key;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The source's events mapped to results, in order; ending or failing the mapped stream ends the
 * source. No async function: each of the thousands of subscribers waits here for hours, and a
 * suspended async function holds a frame, its registers and its await callbacks, made again for
 * every event and promoted to the old generation while it waits (bench:subscriptions). Waiting
 * costs this one promise reaction instead, its callbacks made once per stream.
 */
function mapStream<T>(source: AsyncIterable<unknown>, map: (payload: unknown) => T | Promise<T>): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async () => {
    try {
      await iterator.return?.();
    } catch {
      // The source's own failure to close does not hide the reason it was closed.
    }
  };
  const failed = async (error: unknown): Promise<never> => {
    await close();
    throw error;
  };
  const mapped = (value: T): IteratorResult<T> => ({ value, done: false });
  const step = (result: IteratorResult<unknown>): IteratorResult<T> | Promise<IteratorResult<T>> => {
    if (result.done === true) return { value: undefined, done: true };
    let value: T | Promise<T>;
    try {
      value = map(result.value);
    } catch (error) {
      return failed(error);
    }
    return isPromise(value) ? value.then(mapped, failed) : mapped(value);
  };
  return {
    next(): Promise<IteratorResult<T>> {
      return iterator.next().then(step);
    },
    async return(): Promise<IteratorResult<T>> {
      await close();
      return { value: undefined, done: true };
    },
    async throw(error: unknown): Promise<IteratorResult<T>> {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
