import { randomUUID } from 'node:crypto';
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { ArgumentValidationError } from 'type-graphql';
import { AppError, DatabaseUnavailableError, ErrorCode, isDatabaseUnavailable, mayHaveReachedDatabase } from '../errors';

/** Codes Apollo and graphql-js give to requests that are malformed: the client's fault. */
const CLIENT_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const CONTEXT_PREFIX = 'Context creation failed: ';

function validationMessage(error: ArgumentValidationError): string {
  const problems: string[] = [];
  const walk = (errors: ArgumentValidationError['extensions']['validationErrors'], path: string): void => {
    if (!Array.isArray(errors)) return;
    for (const item of errors) {
      const field = path === '' ? item.property : `${path}.${item.property}`;
      for (const message of Object.values(item.constraints ?? {})) problems.push(`${field}: ${message}`);
      if (item.children !== undefined) walk(item.children, field);
    }
  };
  walk(error.extensions.validationErrors, '');
  return problems.length === 0 ? 'Invalid input' : `Invalid input: ${problems.join('; ')}`;
}

/** Where a request's errors are logged: its own logger (its bindings) and its id. */
export interface RequestLog {
  readonly log: Logger;
  readonly requestId: string;
}

/** The errors logged with their request, and the id each masked one was logged with (the answer names the same). */
const logged = new WeakMap<object, { readonly errorId?: string }>();

type Kind = 'ours' | 'database' | 'validation' | 'client' | 'internal';

function kindOf(error: unknown, code: unknown): Kind {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) return 'ours';
  if (isDatabaseUnavailable(original)) return 'database';
  if (original instanceof ArgumentValidationError) return 'validation';
  if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return 'client';
  return 'internal';
}

/** How an error was logged: Apollo wraps what a context function throws, so its cause counts too. */
function loggedAs(error: unknown): { readonly errorId?: string } | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const cause = (error as { originalError?: unknown }).originalError;
  return logged.get(error) ?? (cause !== null && typeof cause === 'object' ? logged.get(cause) : undefined);
}

function codeOf(error: unknown): unknown {
  return error !== null && typeof error === 'object' ? (error as { extensions?: Record<string, unknown> }).extensions?.['code'] : undefined;
}

function pathOf(error: unknown): unknown {
  return error !== null && typeof error === 'object' ? (error as { path?: unknown }).path : undefined;
}

/**
 * Logs a request's errors where its context is known, so that each line carries the request id
 * (the caller's X-Request-Id) beside the errorId the client is shown: internal errors at error
 * level, an unreachable database at warn. Call it before the errors are formatted.
 */
export function logRequestErrors(errors: readonly unknown[], where: RequestLog): void {
  for (const error of errors) {
    if (error === null || typeof error !== 'object' || loggedAs(error) !== undefined) continue;
    const kind = kindOf(error, codeOf(error));
    const original = unwrapResolverError(error);
    if (kind === 'database') {
      logged.set(error, {});
      where.log.warn({ err: original, requestId: where.requestId, path: pathOf(error) }, 'database unavailable');
    } else if (kind === 'internal') {
      const errorId = randomUUID();
      logged.set(error, { errorId });
      where.log.error({ err: original, errorId, requestId: where.requestId, path: pathOf(error) }, 'internal error');
    }
  }
}

/**
 * Every error a client sees carries one of the codes of DOMAIN.md. Errors of ours and malformed
 * requests keep their message; anything else is masked, with an id that is in the server log
 * (logged by logRequestErrors with the request's id; here, with the root logger, when no
 * request context saw it).
 */
export function createErrorFormatter(log: Logger, options: { production: boolean }) {
  const format = formatter(log, options);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    try {
      return format(formatted, error);
    } catch (formatError) {
      // Formatting must never be the thing that fails: mask, and keep both errors in the log.
      const errorId = randomUUID();
      log.error({ err: error, formatError, errorId }, 'error while formatting an error');
      return { message: `Internal server error (error id ${errorId})`, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId } };
    }
  };
}

function formatter(log: Logger, { production }: { production: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = {
      ...(formatted.locations === undefined ? {} : { locations: formatted.locations }),
      ...(formatted.path === undefined ? {} : { path: formatted.path }),
    };
    const seen = loggedAs(error);
    switch (kindOf(error, formatted.extensions?.['code'])) {
      case 'ours': {
        const { http: _http, ...extensions } = (original as AppError).extensions;
        return {
          ...base,
          message: (original as AppError).message.replace(CONTEXT_PREFIX, ''),
          extensions: { ...extensions, code: (original as AppError).code },
        };
      }
      case 'database': {
        if (seen === undefined) log.warn({ err: original, path: formatted.path }, 'database unavailable');
        const unavailable = new DatabaseUnavailableError(mayHaveReachedDatabase(original) ? 'unknown' : 'nothing-changed');
        const { http: _http, ...extensions } = unavailable.extensions;
        return { ...base, message: unavailable.message, extensions };
      }
      case 'validation':
        return { ...base, message: validationMessage(original as ArgumentValidationError), extensions: { code: ErrorCode.BAD_USER_INPUT } };
      case 'client': {
        const message = production ? formatted.message.replace(/ Did you mean .*\?$/, '') : formatted.message;
        return { ...base, message, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: formatted.extensions?.['code'] } };
      }
      case 'internal': {
        let errorId = seen?.errorId;
        if (errorId === undefined) {
          errorId = randomUUID();
          log.error({ err: original, errorId, path: formatted.path }, 'internal error');
        }
        return {
          ...base,
          message: `Internal server error (error id ${errorId})`,
          extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId },
        };
      }
    }
  };
}
