import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { RequestHandler } from 'express';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id (the caller's X-Request-Id when sane, else a new UUID). */
    id: string;
    /** A logger whose lines carry `req: { id, method, url }`, made when first used. */
    log: Logger;
  }
}

/** Requests given their id and log line, so that a second pass does not log them twice. */
const seen = new WeakSet<IncomingMessage>();

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;
/** Health probes and metric scrapes come every few seconds: they are not logged. */
const PROBES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** The caller's X-Request-Id when sane (so log lines can be found by it), else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * A request id (the caller's X-Request-Id when sane, else a new UUID), echoed back, on every log
 * line; a line when a request ends (info when it succeeded, warn for 4xx, error for 5xx, as
 * pino-http wrote them); at debug level a line when it arrives too, so a request that never
 * finishes (a hang, a shutdown) can still be found. What is not logged costs nothing: the
 * request's child logger is made only when a line is written.
 */
export function requestLogging(log: Logger): RequestHandler {
  return (req, res, next) => {
    // Seen already by the server's front (app/hot-front.ts), which hands on what it does not answer.
    if (seen.has(req)) {
      next();
      return;
    }
    seen.add(req);
    const id = requestIdOf(req);
    const bindings = { req: { id, method: req.method, url: req.url } };
    let child: Logger | undefined;
    req.id = id;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: false,
      get: () => (child ??= log.child(bindings)),
      set: (value: Logger) => (child = value),
    });
    res.setHeader('x-request-id', id);
    if (!PROBES.has(req.url)) {
      if (log.isLevelEnabled('debug')) req.log.debug('request received');
      const started = Date.now();
      res.once('close', () => {
        const status = res.statusCode;
        const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
        if (!log.isLevelEnabled(level)) return;
        const fields = { res: { statusCode: status }, responseTime: Date.now() - started };
        if (status >= 500) req.log[level]({ ...fields, err: new Error(`failed with status code ${status}`) }, 'request errored');
        else req.log[level](fields, res.writableFinished ? 'request completed' : 'request aborted');
      });
    }
    next();
  };
}
