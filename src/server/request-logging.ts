import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { RequestHandler } from 'express';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id (the caller's X-Request-Id when sane, else a new UUID). */
    id: string;
    /** A logger whose lines carry `req: { id, method, url }`, made when first used. */
    log: Logger;
    /** What `log` is made from (set by requestLogging). */
    [LOG_STATE]?: LogState;
  }
}

/** What a request's `log` is made from, kept on the request (see `log` below); set once it has its id and log line. */
const LOG_STATE = Symbol('jobwatch.requestLog');

interface LogState {
  readonly parent: Logger;
  readonly bindings: object;
  child: Logger | undefined;
}

/**
 * `req.log`, defined once on the prototype, over data each request keeps in a plain property. Not
 * an accessor defined on each request: V8 keeps an object's accessors in its hidden class, so
 * each request got a hidden class of its own, in the old generation, pointing at the request's
 * closures. Every young collection then kept those requests (and all they reached) alive and
 * promoted them: a third of all a request allocated, collected only by full collections.
 */
Object.defineProperty(IncomingMessage.prototype, 'log', {
  configurable: true,
  enumerable: false,
  get(this: IncomingMessage): Logger | undefined {
    const state = this[LOG_STATE];
    if (state === undefined) return undefined;
    return (state.child ??= state.parent.child(state.bindings));
  },
  set(this: IncomingMessage, value: Logger) {
    const state = this[LOG_STATE];
    if (state !== undefined) state.child = value;
    // A request requestLogging has not seen keeps the value as its own (it stays unseen).
    else Object.defineProperty(this, 'log', { configurable: true, enumerable: false, writable: true, value });
  },
});

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
    if (req[LOG_STATE] !== undefined) {
      next();
      return;
    }
    const id = requestIdOf(req);
    req.id = id;
    req[LOG_STATE] = { parent: log, bindings: { req: { id, method: req.method, url: req.url } }, child: undefined };
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
