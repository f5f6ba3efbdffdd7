import type { Server } from 'node:http';
import { CloseCode, handleProtocols } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { getVariableValues } from 'graphql/execution/values';
import {
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { WebSocketServer, WebSocket } from 'ws';
import type { Principal } from '../auth/principal';
import { contextFor, type Context } from '../app/context';
import { logRequestErrors } from '../graphql/format-error';
import { requestIdOf } from '../server/request-logging';
import { AppError, ErrorCode, UnauthenticatedError } from '../errors';
import type { Services } from '../app/services';
import { LIMITS } from '../graphql/limits';
import { DocumentCache } from '../graphql/document-cache';
import { sharedSubscriptions } from './shared-execution';
import { wsMetrics } from '../metrics/graphql-metrics';
import { guardOperation, type RateLimiters } from '../graphql/operation-guard';
import { closeSlowReaders, type SlowReaderLimits } from './slow-readers';
import { flattened } from '../util/flattened';
import { quietEmitter } from './quiet-emitter';

export interface WebSocketLimits {
  /** Largest message a client may send; larger ones close the socket (1009). */
  readonly maxPayloadBytes: number;
  readonly maxSubscriptionsPerConnection: number;
  /** A client that does not send connection_init in time is closed (4408). */
  readonly connectionInitTimeoutMs: number;
  readonly keepAliveMs: number;
  /** At shutdown, sockets still open this long after their 1001 close frame are cut. */
  readonly closeGraceMs: number;
  /** Clients that stop reading are closed (4413): see slow-readers.ts. */
  readonly slowReader: SlowReaderLimits;
}

export const DEFAULT_WS_LIMITS: WebSocketLimits = {
  maxPayloadBytes: 64 * 1024,
  maxSubscriptionsPerConnection: 100,
  connectionInitTimeoutMs: 5_000,
  keepAliveMs: 12_000,
  closeGraceMs: 2_000,
  slowReader: { maxUnreadBytes: 1_048_576, stalledMs: 10_000, cutAfterMs: 10_000 },
};

type Formatter = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

type ConnectionExtra = {
  principal?: Principal;
  connectionId?: string;
} & Record<PropertyKey, unknown>;

/** The longest setTimeout can wait (about 24.8 days); a longer delay fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Calls `expired` at `expiresAtMs` (epoch milliseconds), however far off: a timer longer than
 * setTimeout allows is re-armed as often as needed. Answers how to cancel it.
 */
export function atExpiry(expiresAtMs: number, expired: () => void, maxTimerMs = MAX_TIMER_MS): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const remaining = expiresAtMs - Date.now();
    if (remaining <= 0) {
      expired();
      return;
    }
    timer = setTimeout(arm, Math.min(remaining, maxTimerMs));
    // The open socket keeps the process alive, not its expiry: a timer left behind must not.
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Closes `socket` with 4403 when its token expires; answers whether the socket is still open.
 * A socket that closed while its token was being checked (the client left, or the server is
 * shutting down) gets no timer: its 'close' has fired already, nothing would cancel the timer, and
 * it would hold the socket and keep the process alive until the token's expiry (an hour, a day).
 */
export function closeAtExpiry(socket: Pick<WebSocket, 'readyState' | 'on' | 'close'>, expiresAtMs: number): boolean {
  if (socket.readyState === WebSocket.CLOSED) return false;
  const cancel = atExpiry(expiresAtMs, () => socket.close(CloseCode.Forbidden, 'Forbidden: the token expired'));
  // 'close' comes once: a plain listener (once() wraps each in two more objects, per socket).
  socket.on('close', cancel);
  return true;
}

/**
 * graphql-ws (the graphql-transport-ws subprotocol only) on the HTTP server's /graphql. The
 * token comes in connection_init (`connectionParams.authorization: "Bearer <JWT>"`); a missing
 * or bad one closes with 4403, and the socket closes with 4403 when the token expires (clients
 * reconnect with a fresh one). Documents go through the same validation rules and the same
 * error formatting as HTTP.
 */
export function attachWebSocketServer(
  httpServer: Server,
  schema: GraphQLSchema,
  services: Services,
  options: {
    formatError: Formatter;
    validationRules: readonly ValidationRule[];
    limiters: RateLimiters;
    limits?: WebSocketLimits;
    /** Refuses the upgrade of a browser on a foreign origin, before any GraphQL. */
    verifyOrigin?: (origin: string | undefined, host: string | undefined) => boolean;
  },
) {
  const limits = options.limits ?? DEFAULT_WS_LIMITS;
  const log = services.log.child({ component: 'ws' });
  const wss = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: limits.maxPayloadBytes,
    handleProtocols,
    ...(options.verifyOrigin === undefined
      ? {}
      : {
          // Refused as over HTTP: 403 (ws answers 401 when verifyClient only says no).
          verifyClient: (
            { origin, req }: { origin: string | undefined; req: { headers: { host?: string | undefined } } },
            done: (allowed: boolean, status?: number, message?: string) => void,
          ) => {
            if (options.verifyOrigin?.(origin, req.headers.host) ?? true) done(true);
            else done(false, 403, 'Forbidden: this origin is not allowed');
          },
        }),
  });
  const format = (error: GraphQLError): GraphQLFormattedError => options.formatError(error.toJSON(), error);
  // Registered before graphql-ws's own: see quietEmitter.
  const quietEmit = quietEmitter(log);
  wss.on('connection', (socket) => {
    socket.emit = quietEmit;
  });
  const stopClosingSlowReaders = closeSlowReaders(wss, limits.slowReader, log);

  const sharing = sharedSubscriptions();
  const documents = new DocumentCache();
  const disposable = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      schema,
      subscribe: sharing.subscribe,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      ...wsMetrics.hooks,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        try {
          const params = ctx.connectionParams ?? {};
          const principal = await services.tokens.fromAuthorization(params['authorization'] ?? params['Authorization']);
          ctx.extra.principal = principal;
          // The upgrade's X-Request-Id, when sane, names the connection in every log line.
          ctx.extra.connectionId = flattened(requestIdOf(ctx.extra.request));
          forgetHandshake(ctx);
          return closeAtExpiry(socket, principal.expiresAt * 1000);
        } catch (error) {
          const message = error instanceof AppError ? error.message : 'authentication failed';
          socket.close(CloseCode.Forbidden, `Forbidden: ${message}`.slice(0, 120));
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const principal = ctx.extra.principal;
        if (principal === undefined) return [new UnauthenticatedError()];
        // graphql-ws has already added this operation's id to ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          return [
            new AppError(ErrorCode.RATE_LIMITED, `At most ${limits.maxSubscriptionsPerConnection} operations at once per connection`),
          ];
        }
        const document = documents.get(payload.query, (): DocumentNode | readonly GraphQLError[] => {
          let parsed;
          try {
            parsed = parse(payload.query, { maxTokens: LIMITS.maxTokens });
          } catch (error) {
            return [
              withCode(error instanceof GraphQLError ? error : new GraphQLError('The document does not parse'), 'GRAPHQL_PARSE_FAILED'),
            ];
          }
          const errors = validate(schema, parsed, [...options.validationRules]);
          return errors.length > 0 ? errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')) : parsed;
        });
        if (!('kind' in document)) return [...document];
        const operation = getOperationAST(document, payload.operationName ?? undefined);
        if (operation != null) {
          // As over HTTP: bad variables are the client's error, answered before anything runs.
          const variables = getVariableValues(schema, operation.variableDefinitions ?? [], payload.variables ?? {});
          if (variables.errors !== undefined) return variables.errors.map((error) => withCode(error, 'BAD_USER_INPUT'));
        }
        try {
          guardOperation(schema, document, payload.operationName, payload.variables ?? {}, principal, options.limiters);
        } catch (error) {
          return [error as GraphQLError];
        }
        try {
          const contextValue = await contextFor(services, principal, operationId(ctx.extra, id), log);
          return { schema, document, variableValues: payload.variables ?? {}, operationName: payload.operationName ?? null, contextValue };
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Internal error', { originalError: error as Error })];
        }
      },
      onError: (ctx, id, payload, errors) => {
        wsMetrics.ended(ctx, id);
        // Refusals before the operation ran (a context may not exist): the connection's logger.
        logRequestErrors(errors, { log, requestId: operationId(ctx.extra, id) });
        return wsMetrics.errors(payload, errors.map(format));
      },
      onNext: (ctx, id, _payload, args, result) => {
        if (result.errors === undefined) return undefined; // as it is
        const context = args.contextValue as Partial<Context> | undefined;
        logRequestErrors(result.errors, { log: context?.log ?? log, requestId: context?.requestId ?? operationId(ctx.extra, id) });
        return {
          ...(result.data === undefined ? {} : { data: result.data }),
          ...(result.extensions === undefined ? {} : { extensions: result.extensions }),
          errors: wsMetrics.errors(args, result.errors.map(format)),
        };
      },
    },
    wss,
    limits.keepAliveMs,
  );

  log.debug('WebSocket endpoint attached on /graphql');
  return {
    wss,
    /** How many subscription events were resolved, and how many answered with a shared resolution. */
    executions: sharing.stats,
    /**
     * Closes every socket with 1001 (going away) and stops accepting. A client that does not
     * answer the close frame would hold this up until ws's close timeout (30 s) or Apollo's
     * drain grace (10 s): after closeGraceMs it is cut.
     */
    dispose: async () => {
      stopClosingSlowReaders();
      const disposing = disposable.dispose();
      const cut = setTimeout(() => {
        if (wss.clients.size > 0) log.warn({ sockets: wss.clients.size }, 'WebSocket clients did not answer the close frame in time: cut');
        for (const socket of wss.clients) socket.terminate();
      }, limits.closeGraceMs);
      try {
        await disposing;
      } finally {
        clearTimeout(cut);
      }
    },
  };
}

/**
 * graphql-ws keeps a connection's upgrade request (its headers and their strings, about a
 * kilobyte) and its connection_init payload (the bearer token) for as long as the socket lives,
 * for hours, thousands of sockets at once; nothing reads them once the connection is accepted.
 * Dropped then: less memory per subscriber, and no token lying in the heap.
 */
function forgetHandshake(ctx: { connectionParams?: Readonly<Record<string, unknown>> | undefined; extra: object }): void {
  (ctx.extra as { request: unknown }).request = undefined;
  (ctx as { connectionParams: unknown }).connectionParams = undefined;
}

/** An operation's request id in the logs: its connection's id and the client's operation id. */
function operationId(extra: { readonly connectionId?: string }, id: string): string {
  return flattened(`ws-${extra.connectionId ?? 'unauthenticated'}-${id.slice(0, 100)}`);
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return error.extensions['code'] === undefined
    ? new GraphQLError(error.message, {
        ...(error.nodes === undefined ? {} : { nodes: error.nodes }),
        extensions: { ...error.extensions, code },
      })
    : error;
}
