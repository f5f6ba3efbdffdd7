import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';

/**
 * Errors raised before GraphQL runs (a body that is not JSON, one that is too large) answer in
 * the GraphQL error shape with a code, never an HTML page or a stack trace.
 */
export function httpErrorHandler(log: Logger): ErrorRequestHandler {
  return (error: { type?: string; status?: number; statusCode?: number }, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = error.status ?? error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message =
        error.type === 'entity.too.large'
          ? 'The request body is too large'
          : error.type === 'entity.parse.failed'
            ? 'The request body is not valid JSON'
            : 'The request is malformed';
      res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
      return;
    }
    const errorId = randomUUID();
    log.error({ err: error, errorId }, 'unhandled HTTP error');
    res.status(500).json({
      errors: [{ message: `Internal server error (error id ${errorId})`, extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } }],
    });
  };
}
