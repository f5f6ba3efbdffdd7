import { BadUserInputError } from '../errors';

/** Labels a creator sets on a job (DOMAIN.md, "Additions"): string to string, bounded. */
export type JobAttributes = Readonly<Record<string, string>>;

export const MAX_ATTRIBUTES = 20;
export const ATTRIBUTE_KEY = /^[a-z0-9_.-]{1,50}$/;
export const MAX_ATTRIBUTE_VALUE = 200;

/**
 * Checks a JSON object given as attributes (on a job, or as a filter's pairs) and answers it as
 * a plain string map, or fails naming the field and the offending key: at most 20 keys, keys
 * of [a-z0-9_.-] (1 to 50), values strings of 1 to 200 characters.
 */
export function assertAttributes(value: Readonly<Record<string, unknown>>, field: string): JobAttributes {
  const entries = Object.entries(value);
  if (entries.length > MAX_ATTRIBUTES)
    throw new BadUserInputError(`${field} may have at most ${MAX_ATTRIBUTES} keys, got ${entries.length}`, field);
  const result: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (!ATTRIBUTE_KEY.test(key)) {
      throw new BadUserInputError(`${field} key ${JSON.stringify(key.slice(0, 60))} must be 1 to 50 of a-z, 0-9, "_", "." and "-"`, field);
    }
    if (typeof item !== 'string')
      throw new BadUserInputError(`${field}.${key} must be a string, got ${item === null ? 'null' : typeof item}`, field);
    if (item.length < 1 || item.length > MAX_ATTRIBUTE_VALUE) {
      throw new BadUserInputError(`${field}.${key} must be 1 to ${MAX_ATTRIBUTE_VALUE} characters, got ${item.length}`, field);
    }
    result[key] = item;
  }
  return result;
}

/** Whether every pair of `wanted` is among `attributes` (what `attributes @> wanted` answers in SQL). */
export function hasAttributes(attributes: Readonly<Record<string, unknown>> | null | undefined, wanted: JobAttributes): boolean {
  return Object.entries(wanted).every(([key, value]) => attributes?.[key] === value);
}
