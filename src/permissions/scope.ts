import { BadUserInputError } from '../errors';

/**
 * Scopes are `/`-separated paths (`acme/payments/prod`). A grant or filter on a scope covers the
 * scope and everything below it, never a sibling that merely shares a prefix (`acme/pay`).
 */
const SEGMENT = '[A-Za-z0-9][A-Za-z0-9._-]{0,62}';
const SCOPE_PATTERN = new RegExp(`^${SEGMENT}(/${SEGMENT}){0,15}$`);

export function isValidScope(value: string): boolean {
  return value.length <= 300 && SCOPE_PATTERN.test(value);
}

export function assertScope(value: string, field: string): string {
  if (!isValidScope(value)) {
    throw new BadUserInputError(
      `${field} must be a "/"-separated path of segments made of letters, digits, ".", "_" and "-" (e.g. "acme/payments/prod")`,
      field,
    );
  }
  return value;
}

export function isWithinScope(scope: string, ancestor: string): boolean {
  return scope === ancestor || scope.startsWith(`${ancestor}/`);
}

/**
 * The bounds of the scope's subtree in "C" collation order: every descendant `s` satisfies
 * `lower <= s < upper` ('0' is the character right after '/').
 */
export function subtreeBounds(scope: string): { lower: string; upper: string } {
  return { lower: `${scope}/`, upper: `${scope}0` };
}

/** The CASL condition that limits a rule to a scope's subtree: an anchored regex frontends can evaluate. */
export function scopeRegex(scope: string): string {
  return `^${scope.replace(/[.\\^$*+?()[\]{}|-]/g, '\\$&')}(/|$)`;
}

/** The scope a `scopeRegex` was made from, or undefined when the regex is anything else. */
export function scopeFromRegex(regex: string): string | undefined {
  // RegExp#source writes "/" as "\/"; undo that before reading the pattern back.
  const normalized = regex.replace(/\\\//g, '/');
  const match = /^\^(.*)\(\/\|\$\)$/.exec(normalized);
  if (match === null) return undefined;
  const scope = (match[1] as string).replace(/\\(.)/g, '$1');
  return isValidScope(scope) && scopeRegex(scope) === normalized ? scope : undefined;
}
