import { GraphQLScalarType } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver } from 'graphql-scalars';
import { isoText } from '../db/pg-timestamps';

/**
 * ISO-8601 date-times with a zone; anything else is refused with BAD_USER_INPUT. Input and the
 * schema are graphql-scalars' DateTime; output is the same text (`toISOString`, UTC, to the
 * millisecond), written here rather than left in a Date for the JSON encoder: a Date makes
 * JSON.stringify leave its fast path for every object around it (a page of 50 jobs encoded
 * several times slower).
 */
export const DateTimeScalar = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize(value: unknown): string {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return isoText(value);
    const date = DateTimeResolver.serialize(value);
    return date.toISOString();
  },
});
/** Any JSON value (CASL rules, event data). */
export const JSONScalar = JSONResolver;
/** A JSON object (job configuration). */
export const JSONObjectScalar = JSONObjectResolver;
