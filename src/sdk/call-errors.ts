import { JobwatchError } from './graphql-client';

// How the worker reads an error from the server: worth retrying, or which reports were refused.

/**
 * Whether trying the same call again may work: the server or the network failed (a reset, a
 * timeout, HTTP 5xx, `retryable`, a rate limit, an internal error). Not when the request itself
 * is refused (bad input, forbidden, a conflict): it would be refused again.
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof JobwatchError)) return true;
  return ['UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR'].includes(error.code) || error.extensions['retryable'] === true;
}

/**
 * The entries holding the reports a BAD_USER_INPUT names: the server lists them
 * (`invalidReports`), GraphQL's own input errors name them in the message ("reports[3]").
 * Naming none, the whole batch is refused.
 */
export function refusedEntries<Entry>(error: JobwatchError, batch: readonly Entry[]): Entry[] {
  const listed = error.extensions['invalidReports'];
  const indexes = Array.isArray(listed)
    ? listed.filter((index): index is number => typeof index === 'number')
    : [...error.message.matchAll(/\breports\[(\d+)\]/g)].map((match) => Number(match[1]));
  if (indexes.length === 0) return [...batch];
  return indexes.flatMap((index) => (batch[index] === undefined ? [] : [batch[index]]));
}
