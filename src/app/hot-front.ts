import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { LIMITS } from '../graphql/limits';
import { originAllowed } from '../server/origins';
import { requestLogging } from '../server/request-logging';
import { type HotQueries, triedHot } from './hot-queries';

/** What body-parser would have raised for a body that is not JSON (http-errors.ts answers it). */
export const BODY_ERROR = Symbol('jobwatch.bodyError');

declare module 'node:http' {
  interface IncomingMessage {
    /** Set by the front when it read a body that is not JSON: express's /graphql chain raises it. */
    [BODY_ERROR]?: { readonly status: 400; readonly type: 'entity.parse.failed' };
  }
}

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

/**
 * The HTTP server's first look at a request, before express: a POST to /graphql with a small
 * JSON body is read here, the way express's chain would have read it (its request id and log
 * line, its origin rule, body-parser's limits), and handed to the hot-query path; express then
 * sees only what the hot path declines, with its body already parsed (body-parser skips a body
 * that was read). Anything out of the ordinary goes to express untouched: another path or
 * method, a body that is compressed, chunked, large or not UTF-8 JSON, an origin that needs CORS
 * headers or is refused, a socket closing for shutdown.
 */
export function hotFront(options: {
  readonly hot: HotQueries;
  readonly app: RequestListener;
  readonly log: Logger;
  readonly corsOrigins: readonly string[];
}): RequestListener {
  const { hot, app, corsOrigins } = options;
  const logRequest = requestLogging(options.log);
  const toExpress = (req: IncomingMessage, res: ServerResponse) => {
    triedHot.add(req);
    app(req, res);
  };

  return (req, res) => {
    const headers = req.headers;
    const length = Number(headers['content-length']);
    if (
      req.method !== 'POST' ||
      req.url !== '/graphql' ||
      req.socket.writableEnded ||
      !JSON_TYPE.test(headers['content-type'] ?? '') ||
      headers['content-encoding'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      !(length > 0 && length <= LIMITS.maxBodyBytes) ||
      (headers.origin !== undefined && (corsOrigins.length > 0 || !originAllowed(headers.origin, headers.host, corsOrigins)))
    ) {
      app(req, res);
      return;
    }
    logRequest(req as Parameters<typeof logRequest>[0], res as Parameters<typeof logRequest>[1], () => undefined);
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    req.once('error', () => toExpress(req, res));
    req.once('end', () => {
      if (received !== length) {
        toExpress(req, res);
        return;
      }
      const raw = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received)).toString('utf8');
      // As body-parser reads it: a byte-order mark dropped, then strict (an object or an array, nothing else).
      const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      let body: unknown;
      try {
        const first = /^[ \t\n\r]*([^ \t\n\r])/.exec(text)?.[1];
        if (first !== '{' && first !== '[') throw new SyntaxError('not a JSON object or array');
        body = JSON.parse(text);
      } catch {
        req[BODY_ERROR] = { status: 400, type: 'entity.parse.failed' };
        toExpress(req, res);
        return;
      }
      (req as IncomingMessage & { body?: unknown }).body = body;
      hot.answer(req, res, body, () => toExpress(req, res));
    });
  };
}
