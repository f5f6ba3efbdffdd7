import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import cors from 'cors';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { openDatabase } from '../db/database';
import { PgListener } from '../db/pg-listener';
import { sqlOf } from '../db/sql';
import { createContext, type Context } from '../graphql/context';
import { createErrorFormatter, logRequestErrors } from '../graphql/format-error';
import { OperationRefusedError } from '../graphql/errors';
import { jobwatchSchema } from '../graphql/schema';
import { allValidationRules, extraValidationRules } from '../graphql/validation-rules';
import { LIMITS } from '../graphql/limits';
import { guardOperation, type RateLimiters } from '../graphql/operation-guard';
import { RateLimiter } from '../graphql/rate-limiter';
import { originAllowed, refuseForeignOrigins } from './origins';
import { JOBS_CHANNEL, JobEventHub, TIMELINE_CHANNEL } from '../realtime/job-event-hub';
import { attachWebSocketServer } from '../realtime/ws-server';
import type { SharedExecutionStats } from '../realtime/shared-execution';
import { SecretBox } from '../jobs/secret-box';
import { createLogger } from '../logger';
import { bootstrapAdmins } from '../permissions/bootstrap-admins';
import { PERMISSIONS_CHANNEL, PermissionStore } from '../permissions/permission-store';
import { resolveJwtSecret } from '../auth/signing-key';
import { TokenVerifier } from '../auth/token-verifier';
import type { Services } from '../services';
import { LEASES_CHANNEL, LeaseCache } from '../workers/progress/lease-cache';
import { Daemon } from '../daemon/daemon';
import { NOTIFICATIONS_CHANNEL, NotificationFeed } from '../notifications/notification-feed';
import { AlertDispatcher, JOB_EVENTS_CHANNEL } from '../alerts/alert-dispatcher';
import { AlertDeliveryWorker, DELIVERIES_CHANNEL } from '../alerts/alert-delivery-worker';
import { ProgressBuffer } from '../workers/progress/progress-buffer';
import { healthRoutes } from './health';
import { httpErrorHandler } from './http-errors';
import { requestLogging } from './request-logging';

export interface RunningServer {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  readonly services: Services;
  /** Subscription events resolved over the WebSocket, and those answered with a shared resolution. */
  readonly subscriptionExecutions: SharedExecutionStats;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly log?: Logger;
  /** The host to bind; all interfaces by default. */
  readonly host?: string;
  readonly poolSize?: number;
  /** Run the daemon on its timer (default). Tests turn it off and call `services.daemon.tick()`. */
  readonly daemon?: boolean;
  /** Run the alert dispatcher and webhook delivery (default). Tests may drive them by hand. */
  readonly alerts?: boolean;
}


/** Starts everything a Jobwatch instance runs, in order, and answers how to stop it. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const database = await openDatabase(config, log, options.poolSize);
  const sql = sqlOf(database.pool);
  const cleanups: Array<() => Promise<void>> = [() => database.close()];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log.error({ err: error }, 'shutdown step failed'));
  };

  try {
    const listener = new PgListener({
      url: database.url,
      channels: [PERMISSIONS_CHANNEL, JOBS_CHANNEL, TIMELINE_CHANNEL, NOTIFICATIONS_CHANNEL, JOB_EVENTS_CHANNEL, DELIVERIES_CHANNEL, LEASES_CHANNEL],
      log: log.child({ component: 'listener' }),
    });
    cleanups.push(() => listener.stop());
    await listener.start();

    const admins =
      config.bootstrapAdmins.length > 0 ? config.bootstrapAdmins : database.embedded && !config.production ? ['admin'] : [];
    const granted = await bootstrapAdmins(sql, admins);
    if (granted > 0) log.info({ admins }, 'granted the admin role (BOOTSTRAP_ADMINS)');

    const jwt = config.jwksUrl === undefined ? resolveJwtSecret(config.jwtSecret, config.dataDir) : undefined;
    if (jwt?.source === 'dev-file') log.warn('JWT_SECRET is not set: using the development secret in the data directory');
    const leases = new LeaseCache(sql, listener);
    const progress = new ProgressBuffer(sql, leases, config.progressFlushMs, log.child({ component: 'progress' }));
    progress.start();
    cleanups.push(() => progress.stop());
    const daemon = new Daemon(database.pool, { ...config, intervalMs: config.daemonIntervalMs }, log.child({ component: 'daemon' }), (jobs) => {
      for (const job of jobs) {
        progress.forget(job.id);
        leases.forget(job.id);
      }
    });
    const permissions = new PermissionStore(sql, listener);
    const hub = new JobEventHub(sql, listener, permissions, log.child({ component: 'hub' }));
    const secrets = SecretBox.fromConfig(config.secretsKey, config.dataDir);
    const alerts = {
      dispatcher: new AlertDispatcher(database.pool, permissions, log.child({ component: 'alerts' }), listener),
      deliveries: new AlertDeliveryWorker(sql, secrets, permissions, config.alerts, log.child({ component: 'webhooks' }), listener),
    };
    const services: Services = {
      config,
      log,
      dataSource: database.dataSource,
      pool: database.pool,
      sql,
      listener,
      permissions,
      secrets,
      tokens: new TokenVerifier(jwt === undefined ? { kind: 'jwks', url: config.jwksUrl as string } : { kind: 'secret', secret: jwt.secret }, {
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
      }),
      leases,
      progress,
      daemon,
      hub,
      notificationFeed: new NotificationFeed(sql, listener, permissions, log.child({ component: 'notifications' })),
      alerts,
    };

    const app = express();
    app.disable('x-powered-by');
    // GraphQL answers POSTs; an ETag would hash every response body for nothing.
    app.set('etag', false);
    app.set('trust proxy', false);
    const httpServer = createServer(app);
    const schema = await jobwatchSchema();
    const formatError = createErrorFormatter(log, { production: config.production });
    const validationRules = extraValidationRules({ production: config.production });
    const limiters: RateLimiters = {
      mutations: new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst),
      workerMutations: new RateLimiter(config.rateLimit.workerPerSecond, config.rateLimit.workerBurst),
    };
    const ws = attachWebSocketServer(httpServer, schema, services, {
      formatError,
      validationRules: allValidationRules(validationRules),
      limiters,
      verifyOrigin: (origin, host) => originAllowed(origin, host, config.corsOrigins),
    });
    const apollo = new ApolloServer<Context>({
      schema,
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
        // Cost and rate limits, once the operation and its variables are known.
        {
          requestDidStart: async () => ({
            didResolveOperation: async ({ document, operation, operationName, request, contextValue }) => {
              // Apollo would run a subscription's resolver as a query, without its event.
              if (operation?.operation === 'subscription') {
                throw new OperationRefusedError('subscriptions are served over graphql-ws on this path (WebSocket, subprotocol graphql-transport-ws)');
              }
              guardOperation(schema, document, operationName, request.variables ?? {}, contextValue.principal, limiters);
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
        config.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      ],
    });
    await apollo.start();

    // At shutdown the drain ends (half-closes) idle keep-alive sockets; a request the client
    // had already sent on one is still parsed, but its answer could never be written. Drop it
    // unread, as if it had come a moment later, rather than run it (a mutation) and reset.
    app.use((req, _res, next) => {
      if (req.socket.writableEnded) req.socket.destroy();
      else next();
    });
    app.use(requestLogging(log));
    app.use(healthRoutes(database.dataSource, listener));
    app.use(
      '/graphql',
      refuseForeignOrigins(config.corsOrigins),
      // `cors` compares origins literally: "*" has to be said as such.
      cors({ origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins.length === 0 ? false : [...config.corsOrigins], maxAge: 600 }),
      express.json({ limit: LIMITS.maxBodyBytes }),
      expressMiddleware(apollo, {
        context: async ({ req }) => {
          const requestId = String(req.id);
          try {
            return await createContext(services, req.headers.authorization, requestId, req.log);
          } catch (error) {
            logRequestErrors([error], { log: req.log, requestId });
            throw error;
          }
        },
      }),
    );
    app.use(httpErrorHandler(log));

    if (options.daemon !== false) {
      daemon.start();
      cleanups.push(() => daemon.stop());
    }
    if (options.alerts !== false) {
      alerts.dispatcher.start();
      alerts.deliveries.start();
      cleanups.push(() => alerts.dispatcher.stop());
      cleanups.push(() => alerts.deliveries.stop());
    }
    // Pushed last, so it runs first: stop accepting and finish in-flight requests (and close
    // sockets) while the daemon, progress and the database are still there to serve them.
    cleanups.push(() => apollo.stop());

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, options.host, () => resolve());
    });
    const port = (httpServer.address() as AddressInfo).port;
    const url = `http://${options.host ?? '127.0.0.1'}:${port}/graphql`;
    log.info({ url, embeddedDatabase: database.embedded }, 'Jobwatch is ready');
    return { url, port, httpServer, services, subscriptionExecutions: ws.executions, close };
  } catch (error) {
    await close();
    throw error;
  }
}
