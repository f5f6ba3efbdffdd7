import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import {
  type DocumentNode,
  getOperationAST,
  type GraphQLSchema,
  type OperationDefinitionNode,
  OperationTypeNode,
  parse,
  validate,
  type ValidationRule,
} from 'graphql';
import type { CompiledExecution } from '../graphql/compiled-execution';
import { DocumentCache } from '../graphql/document-cache';
import { LIMITS } from '../graphql/limits';
import { guardOperation, type RateLimiters } from '../graphql/operation-guard';
import { allValidationRules } from '../graphql/validation-rules';
import { SELF_VERIFYING_QUERIES } from '../jobs/jobs.resolver';
import { verifiesItself } from '../jobs/verified-read';
import { observeHttpOperation } from '../metrics/graphql-metrics';
import { type Context, createContext, verifyAbility } from './context';
import type { Services } from './services';

/** Documents longer than this always go through Apollo (DocumentCache would not keep them: one-off documents). */
const MAX_TEXT_LENGTH = 16 * 1024;

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';

export interface HotQueryParts {
  readonly schema: GraphQLSchema;
  readonly execution: CompiledExecution;
  /** The rules beyond graphql-js's own, as Apollo is given them. */
  readonly validationRules: readonly ValidationRule[];
  readonly limiters: RateLimiters;
  readonly services: Services;
}

/** What the hot path keeps beside a cached document: its query operations by name ('' for the only one). */
interface Prepared {
  readonly document: DocumentNode;
  readonly operations: Map<string, OperationDefinitionNode | null>;
  /**
   * Operation names and variables (as JSON) the guard has passed: a query's guard (cost, storable
   * input) depends on nothing else, and a page is read again and again with the same variables.
   */
  readonly guarded: Set<string>;
}

/** Variable sets remembered per document as guarded; past this the set starts again. */
const MAX_GUARDED = 100;

/** Texts seen once and not prepared, kept up to this many (oldest out). */
const MAX_SEEN_ONCE = 1_000;

/**
 * The short way for the requests a monitor sends all day: the same few query documents, read
 * again and again (a list page, a job page). Express middleware in front of Apollo's: a POSTed
 * query whose document has parsed and validated before, and that graphql-jit has compiled
 * (CompiledExecution), is run here: the same context, the same guard (cost and input checks),
 * the same permission check (the hot reads check the permissions version in their own
 * statement; any other query reads it first), the same compiled query, and the answer Apollo
 * would give, byte for byte. What it leaves out is Apollo's per-request machinery: hashing the
 * text for its document store, header maps, a plugin round per stage, and the express
 * integration's copies.
 *
 * It answers only what it can answer cleanly. Everything else goes on to Apollo, untouched:
 * another method or body shape, a document seen for the first time, a mutation or a
 * subscription, an `Accept` it does not serve, a token or a guard that refuses (Apollo then
 * refuses it with its own error and log line), and any answer with errors, which Apollo runs
 * again from the start so that every error is formatted, logged and coded in one place (a read
 * changes nothing, so running it twice only costs time, and only on the error path).
 */
export function hotQueries(parts: HotQueryParts): HotQueries {
  const rules = allValidationRules([...parts.validationRules]);
  // The same cache of parsed and validated documents as the WebSocket path's (valid ones only, least
  // recently used out); what this path adds to a document lives beside it, and goes with it.
  const documents = new DocumentCache();
  const extras = new WeakMap<DocumentNode, Prepared>();
  // A text is parsed and validated here the second time it comes, not the first: Apollo parses
  // and validates it anyway the first time (a document is answered hot from its fourth run, see
  // CompiledExecution), and a one-off document (literals written into the text, as GraphiQL and
  // scripts send them) would be validated twice, here and by Apollo: 1.5 ms, half a small
  // mutation's CPU.
  const seenOnce = new Set<string>();
  const firstSight = (text: string): boolean => {
    if (seenOnce.delete(text)) return false;
    if (seenOnce.size >= MAX_SEEN_ONCE) seenOnce.delete(seenOnce.values().next().value as string);
    seenOnce.add(text);
    return true;
  };

  /** The text's document with what this path keeps of it; null when Apollo must answer it (it does not parse or validate). */
  const prepare = (text: string): Prepared | null => {
    const document = documents.get(text, (): DocumentNode | null => {
      if (firstSight(text)) return null;
      try {
        const parsed = parse(text, { maxTokens: LIMITS.maxTokens });
        return validate(parts.schema, parsed, rules).length === 0 ? parsed : null;
      } catch {
        return null;
      }
    });
    if (document === null) return null;
    let prepared = extras.get(document);
    if (prepared === undefined) extras.set(document, (prepared = { document, operations: new Map(), guarded: new Set() }));
    return prepared;
  };

  const operationOf = (prepared: Prepared, name: string | undefined): OperationDefinitionNode | null => {
    const key = name ?? '';
    let operation = prepared.operations.get(key);
    if (operation === undefined) {
      const found = getOperationAST(prepared.document, name);
      operation = found?.operation === OperationTypeNode.QUERY ? found : null;
      prepared.operations.set(key, operation);
    }
    return operation;
  };

  const answer = (req: IncomingMessage, res: ServerResponse, body: unknown, fallback: () => void): void => {
    const started = performance.now();
    const request = hotRequest(req.method ?? '', body);
    const contentType = request === undefined ? undefined : responseType(req.headers.accept);
    if (request === undefined || contentType === undefined) {
      fallback();
      return;
    }
    const prepared = prepare(request.query);
    const operation = prepared === null ? null : operationOf(prepared, request.operationName);
    const compiled =
      prepared === null || operation === null ? undefined : parts.execution.hotQuery(prepared.document, operation, request.operationName);
    if (prepared === null || operation === null || compiled === undefined) {
      fallback();
      return;
    }
    const variables = request.variables ?? {};
    const run = async (): Promise<string | undefined> => {
      let ctx: Context;
      try {
        ctx = await createContext(parts.services, req.headers.authorization, req.id, () => req.log, { deferPermissionsCheck: true });
        const guardKey = `${request.operationName ?? ''}\u0000${JSON.stringify(variables)}`;
        if (!prepared.guarded.has(guardKey)) {
          guardOperation(parts.schema, prepared.document, request.operationName, variables, ctx.principal, parts.limiters);
          if (prepared.guarded.size >= MAX_GUARDED) prepared.guarded.clear();
          prepared.guarded.add(guardKey);
        }
        if (ctx.unverifiedVersion !== undefined && !verifiesItself(operation, SELF_VERIFYING_QUERIES)) await verifyAbility(ctx);
      } catch {
        return undefined;
      }
      const result = await compiled.query(undefined, ctx, variables);
      if (result.errors !== undefined && result.errors.length > 0) return undefined;
      // What Apollo writes for an answer without errors: `orderExecutionResultFields` then `prettyJSONStringify`.
      return `${JSON.stringify({ data: result.data })}\n`;
    };
    run().then(
      (text) => {
        if (text === undefined) {
          fallback();
          return;
        }
        parts.execution.countCompiledRun();
        observeHttpOperation(OperationTypeNode.QUERY, request.operationName ?? operation.name?.value, started);
        res.statusCode = 200;
        res.setHeader('content-type', contentType);
        res.end(text);
      },
      // A thrown error in the compiled query itself: Apollo runs it again and reports it.
      () => fallback(),
    );
  };

  return {
    answer,
    middleware: (req, res, next) => {
      // The front (hot-front.ts) already tried this one.
      if (triedHot.has(req)) next();
      else answer(req, res, req.body, () => next());
    },
  };
}

/** Requests the hot path has already declined: express must not try them again. */
export const triedHot = new WeakSet<IncomingMessage>();

export interface HotQueries {
  /** Answers `body` (a parsed POST body) if it is a hot query; calls `fallback` otherwise, having written nothing. */
  answer(req: IncomingMessage, res: ServerResponse, body: unknown, fallback: () => void): void;
  /** The same for requests express parsed: in front of Apollo's middleware. */
  readonly middleware: RequestHandler;
}

interface HotRequest {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown> | undefined;
}

/** The request when it is a POSTed GraphQL request of the plain shape; undefined for anything else. */
function hotRequest(method: string, body: unknown): HotRequest | undefined {
  if (method !== 'POST' || body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { query, operationName, variables, extensions } = body as Record<string, unknown>;
  if (typeof query !== 'string' || query.length > MAX_TEXT_LENGTH || extensions !== undefined) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  return {
    query,
    operationName: operationName ?? undefined,
    variables: (variables ?? undefined) as Record<string, unknown> | undefined,
  };
}

/**
 * The content type Apollo would answer with for this `Accept`, in the common cases: none, any,
 * or JSON first gets JSON; `application/graphql-response+json` first gets that. Any other
 * header goes to Apollo, which negotiates it in full.
 */
function responseType(accept: string | undefined): string | undefined {
  if (accept === undefined || accept === '' || accept === '*/*' || accept === 'application/json') return JSON_TYPE;
  if (accept.startsWith('application/graphql-response+json') && !accept.includes(';q=')) return GRAPHQL_RESPONSE_TYPE;
  return undefined;
}
