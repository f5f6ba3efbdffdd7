import { GraphQLError } from 'graphql';

/** The codes a client can see, on HTTP and WebSocket alike (DOMAIN.md, "Errors"). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
};

/** An error meant for the client: its message is safe to show and it carries a code. */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message, { extensions: { code, ...details } });
  }

  /** The HTTP status for this error when it fails a whole request (no token, a closed endpoint). */
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'Authentication required: send "Authorization: Bearer <JWT>"') {
    // `http` sets the status when the whole request fails (Apollo strips it from the response).
    super(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(ErrorCode.FORBIDDEN, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} was not found`);
  }
}

export class BadUserInputError extends AppError {
  constructor(message: string, field?: string) {
    super(ErrorCode.BAD_USER_INPUT, message, field === undefined ? {} : { field });
  }
}

/** The whole operation is refused before it runs (too expensive): HTTP 400. */
export class OperationRefusedError extends AppError {
  constructor(message: string) {
    super(ErrorCode.BAD_USER_INPUT, message, { http: { status: 400 } });
  }
}

/**
 * Postgres cannot be reached: retrying shortly will work. HTTP 503. When the statement never
 * reached it, nothing was changed; when the connection was lost while a statement ran, that
 * statement may still have committed (whole: each change is one statement), so the client is
 * told to read the state back rather than that nothing happened (`outcome: UNKNOWN`).
 */
export class DatabaseUnavailableError extends AppError {
  constructor(outcome: 'nothing-changed' | 'unknown' = 'nothing-changed') {
    super(
      ErrorCode.INTERNAL_SERVER_ERROR,
      outcome === 'unknown'
        ? 'The connection to the database was lost while the request ran: a change it was making happened whole or not at all. Read it back before retrying.'
        : 'The database is unavailable right now; nothing was changed. Retry in a few seconds.',
      { reason: 'DATABASE_UNAVAILABLE', retryable: true, ...(outcome === 'unknown' ? { outcome: 'UNKNOWN' } : {}), http: { status: 503 } },
    );
  }
}

/** Connection failures that happen before anything is sent: a statement never reached Postgres. */
const NEVER_REACHED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', '57P03']);

/** Whether a connection error (isDatabaseUnavailable) may have come after a statement was sent. */
export function mayHaveReachedDatabase(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && NEVER_REACHED_CODES.has(code)) return false;
  return !(typeof message === 'string' && /timeout exceeded when trying to connect|the database system is starting up/i.test(message));
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08P01',
]);

/** Whether an error says Postgres is out of reach (down, restarting, connection lost). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Connection is closed|connection error|not queryable|the database system is (starting up|shutting down)/i.test(
      message,
    )
  );
}

export class ConflictError extends AppError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super(ErrorCode.CONFLICT, message, details);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, `Too many requests; retry after ${retryAfterSeconds}s`, {
      retryAfterSeconds,
      http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
    });
  }
}

/**
 * One request holds more mutations than a principal may send at once: waiting never helps, so
 * no retryAfterSeconds; the client has to split the request.
 */
export class ExceedsBurstError extends AppError {
  constructor(kind: 'mutations' | 'worker mutations', count: number, burst: number) {
    super(
      ErrorCode.RATE_LIMITED,
      `This request holds ${count} ${kind}, more than the ${burst} allowed at once: send them in smaller requests`,
      {
        reason: 'EXCEEDS_BURST',
        retryable: false,
        http: { status: 429 },
      },
    );
  }
}
