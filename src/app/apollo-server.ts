import { OperationTypeNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerOptions } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { type Context, verifyAbility } from './context';
import { verifiesItself } from '../jobs/verified-read';
import { SELF_VERIFYING_QUERIES } from '../jobs/jobs.resolver';
import { logRequestErrors } from '../graphql/format-error';
import { OperationRefusedError } from '../errors';
import type { CompiledExecution } from '../graphql/compiled-execution';
import { LIMITS } from '../graphql/limits';
import { guardOperation, type RateLimiters } from '../graphql/operation-guard';
import { graphqlMetricsPlugin } from '../metrics/graphql-metrics';

/** What the HTTP GraphQL server is made of (start-server.ts makes them, the WebSocket server shares most). */
export interface ApolloParts {
  readonly config: Config;
  readonly log: Logger;
  readonly schema: GraphQLSchema;
  readonly execution: CompiledExecution;
  readonly validationRules: ValidationRule[];
  readonly formatError: NonNullable<ApolloServerOptions<Context>['formatError']>;
  readonly limiters: RateLimiters;
  readonly httpServer: Server;
  readonly ws: { dispose(): Promise<void> };
}

/** The Apollo server of the /graphql HTTP endpoint (not started). */
export function createApolloServer({
  config,
  log,
  schema,
  execution,
  validationRules,
  formatError,
  limiters,
  httpServer,
  ws,
}: ApolloParts): ApolloServer<Context> {
  return new ApolloServer<Context>({
    gateway: execution.gateway(),
    validationRules,
    parseOptions: { maxTokens: LIMITS.maxTokens },
    introspection: !config.production,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    // main.ts owns the signals and shuts down in order (Apollo's own handler would race it).
    stopOnTerminationSignals: false,
    formatError,
    logger: log.child({ component: 'apollo' }),
    plugins: [
      graphqlMetricsPlugin(),
      // Cost and rate limits, once the operation and its variables are known.
      {
        requestDidStart: async () => ({
          didResolveOperation: async ({ document, operation, operationName, request, contextValue }) => {
            // Apollo would run a subscription's resolver as a query, without its event.
            if (operation?.operation === OperationTypeNode.SUBSCRIPTION) {
              throw new OperationRefusedError(
                'subscriptions are served over graphql-ws on this path (WebSocket, subprotocol graphql-transport-ws)',
              );
            }
            guardOperation(schema, document, operationName, request.variables ?? {}, contextValue.principal, limiters);
            // The hot reads check the permissions version in their own statement; anything else reads it first.
            if (contextValue.unverifiedVersion !== undefined && (operation == null || !verifiesItself(operation, SELF_VERIFYING_QUERIES))) {
              await verifyAbility(contextValue);
            }
          },
          // Here the request's context is known: the log line carries its id beside the errorId.
          didEncounterErrors: async ({ errors, contextValue }) => {
            logRequestErrors(errors, contextValue);
          },
        }),
      },
      // Apollo runs every drainServer at once: 1001 to every socket beside the HTTP drain.
      { serverWillStart: async () => ({ drainServer: () => ws.dispose() }) },
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Per-field hooks cost CPU on every field of every request; nothing here uses them.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      // No landing page from a CDN: the console is at / and an offline GraphiQL at /graphiql.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
}
