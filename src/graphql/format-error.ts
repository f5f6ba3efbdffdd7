import { randomUUID } from 'node:crypto';
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { ArgumentValidationError } from 'type-graphql';
import { AppError, DatabaseUnavailableError, ErrorCode, isDatabaseUnavailable } from './errors';

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

/**
 * Every error a client sees carries one of the codes of DOMAIN.md. Errors of ours and malformed
 * requests keep their message; anything else is masked, with an id that is in the server log.
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
    const base = { locations: formatted.locations, path: formatted.path };
    if (original instanceof AppError) {
      const { http: _http, ...extensions } = original.extensions;
      return { ...base, message: original.message.replace(CONTEXT_PREFIX, ''), extensions: { ...extensions, code: original.code } };
    }
    if (isDatabaseUnavailable(original)) {
      log.warn({ err: original, path: formatted.path }, 'database unavailable');
      const unavailable = new DatabaseUnavailableError();
      const { http: _http, ...extensions } = unavailable.extensions;
      return { ...base, message: unavailable.message, extensions };
    }
    if (original instanceof ArgumentValidationError) {
      return { ...base, message: validationMessage(original), extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    const code = formatted.extensions?.['code'];
    if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) {
      const message = production ? formatted.message.replace(/ Did you mean .*\?$/, '') : formatted.message;
      return { ...base, message, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: code } };
    }
    const errorId = randomUUID();
    log.error({ err: original, errorId, path: formatted.path }, 'internal error');
    return {
      ...base,
      message: `Internal server error (error id ${errorId})`,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId },
    };
  };
}
