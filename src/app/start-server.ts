import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { openDatabase } from '../db/database';
import { createContext } from './context';
import { createErrorFormatter, logRequestErrors } from '../graphql/format-error';
import { jobwatchSchema } from './schema';
import { CompiledExecution } from '../graphql/compiled-execution';
import { allValidationRules, extraValidationRules } from '../graphql/validation-rules';
import { LIMITS } from '../graphql/limits';
import type { RateLimiters } from '../graphql/operation-guard';
import { RateLimiter } from '../graphql/rate-limiter';
import { originAllowed, refuseForeignOrigins } from '../server/origins';
import { attachWebSocketServer, DEFAULT_WS_LIMITS } from '../realtime/ws-server';
import type { SharedExecutionStats } from '../realtime/shared-execution';
import { createLogger } from '../logger';
import type { Services } from './services';
import { healthRoutes } from '../server/health';
import { httpErrorHandler } from '../server/http-errors';
import { requestLogging } from '../server/request-logging';
import { consoleRoutes } from '../server/console-routes';
import { countRefusedRequest } from '../metrics/graphql-metrics';
import { instanceRegistry } from '../metrics/instance-metrics';
import { metricsRoute } from '../metrics/metrics-route';
import { useRuntimeMetrics } from '../metrics/runtime-metrics';
import { createServices } from './create-services';
import { createApolloServer } from './apollo-server';
import { hotQueries } from './hot-queries';
import { BODY_ERROR, hotFront } from './hot-front';

export interface RunningServer {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  readonly services: Services;
  /** Subscription events resolved over the WebSocket, and those answered with a shared resolution. */
  readonly subscriptionExecutions: SharedExecutionStats;
  /** HTTP operations executed, and those that ran compiled (graphql-jit). */
  readonly queryExecutions: CompiledExecution['stats'];
  /** The users granted the admin role at start (BOOTSTRAP_ADMINS, or "admin" on the embedded database). */
  readonly bootstrapAdmins: readonly string[];
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
  /** How long a socket may wait before connection_init (5 s by default). Tests of the 4408 close shorten it. */
  readonly connectionInitTimeoutMs?: number;
}

/** Starts everything a Jobwatch instance runs, in order, and answers how to stop it. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const database = await openDatabase(config, log, options.poolSize);
  const cleanups: Array<() => Promise<void>> = [() => database.close()];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log.error({ err: error }, 'shutdown step failed'));
  };

  try {
    const { services, admins } = await createServices(config, log, database, cleanups);
    const { listener, hub, progress, daemon, alerts, sendPacer } = services;
    // Node's figures run while a server does: the last server of the process to stop stops them.
    const releaseRuntimeMetrics = useRuntimeMetrics();
    cleanups.push(async () => releaseRuntimeMetrics());

    const app = express();
    app.disable('x-powered-by');
    // GraphQL answers POSTs; an ETag would hash every response body for nothing.
    app.set('etag', false);
    app.set('trust proxy', false);
    // Express, once the hot-query front is made (below): it reads the common GraphQL POSTs itself.
    let front: RequestListener = app;
    const httpServer = createServer((req, res) => front(req, res));
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
      limits: {
        ...DEFAULT_WS_LIMITS,
        connectionInitTimeoutMs: options.connectionInitTimeoutMs ?? DEFAULT_WS_LIMITS.connectionInitTimeoutMs,
        slowReader: { ...DEFAULT_WS_LIMITS.slowReader, ...config.wsSlowReader },
      },
    });
    // Hot query documents run compiled (graphql-jit); Apollo's gateway hook swaps only the executor.
    const execution = new CompiledExecution(schema);
    const hot = hotQueries({ schema, execution, validationRules, limiters, services });
    front = hotFront({ hot, app, log, corsOrigins: config.corsOrigins });
    const apollo = createApolloServer({ config, log, schema, execution, validationRules, formatError, limiters, httpServer, ws });
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
      metricsRoute(instanceRegistry({ pool: database.pool, listener, sockets: () => ws.wss.clients.size, hub, progress, sendPacer }), {
        token: config.metricsToken,
        production: config.production,
      }),
    );
    app.use(consoleRoutes({ production: config.production }));
    app.use(
      '/graphql',
      refuseForeignOrigins(config.corsOrigins),
      // `cors` compares origins literally: "*" has to be said as such. With no origin allowed it
      // would do nothing, at some cost per request: it is then left out.
      ...(config.corsOrigins.length === 0
        ? []
        : [cors({ origin: config.corsOrigins.includes('*') ? '*' : [...config.corsOrigins], maxAge: 600 })]),
      // A body the front read and found not to be JSON: the error body-parser would have raised.
      (req, _res, next) => next(req[BODY_ERROR]),
      express.json({ limit: LIMITS.maxBodyBytes }),
      hot.middleware,
      expressMiddleware(apollo, {
        context: async ({ req }) => {
          const requestId = String(req.id);
          try {
            return await createContext(services, req.headers.authorization, requestId, () => req.log, { deferPermissionsCheck: true });
          } catch (error) {
            logRequestErrors([error], { log: req.log, requestId });
            countRefusedRequest(error);
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
    return {
      url,
      port,
      httpServer,
      services,
      subscriptionExecutions: ws.executions,
      queryExecutions: execution.stats,
      bootstrapAdmins: admins,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
