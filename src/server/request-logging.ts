import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;
/** Health probes come every few seconds: they are not logged. */
const PROBES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** The caller's X-Request-Id when sane (so log lines can be found by it), else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * A request id (the caller's X-Request-Id when sane, else a new UUID), echoed back, on every log
 * line; at debug level a line when a request arrives too, so a request that never finishes
 * (a hang, a shutdown) can still be found.
 */
export function requestLogging(log: Logger): RequestHandler[] {
  const received: RequestHandler = (req, _res, next) => {
    if (!PROBES.has(req.url)) req.log.debug('request received');
    next();
  };
  return [httpLogger(log), received];
}

function httpLogger(log: Logger) {
  return pinoHttp({
    logger: log,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdOf(req);
      res.setHeader('x-request-id', id);
      return id;
    },
    autoLogging: { ignore: (req) => PROBES.has(req.url ?? '') },
    customLogLevel: (_req, res, error) => (error !== undefined || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    serializers: {
      req: (req: { id: unknown; method: unknown; url: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: unknown }) => ({ statusCode: res.statusCode }),
    },
  });
}
