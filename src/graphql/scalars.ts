import { DateTimeResolver, JSONObjectResolver, JSONResolver } from 'graphql-scalars';

/** ISO-8601 date-times with a zone; anything else is refused with BAD_USER_INPUT. */
export const DateTimeScalar = DateTimeResolver;
/** Any JSON value (CASL rules, event data). */
export const JSONScalar = JSONResolver;
/** A JSON object (job configuration). */
export const JSONObjectScalar = JSONObjectResolver;
