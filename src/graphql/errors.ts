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

export class ConflictError extends AppError {
  constructor(message: string, details: Readonly<Record<string, unknown>> = {}) {
    super(ErrorCode.CONFLICT, message, details);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, `Too many requests; retry after ${retryAfterSeconds}s`, { retryAfterSeconds });
  }
}
