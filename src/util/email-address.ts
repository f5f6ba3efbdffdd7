/**
 * An email address as alert rules and ALERT_EMAIL_FROM take it: a plain `local@domain` (no
 * display name, no comments, no whitespace, so nothing can reach a header but the address),
 * at most 254 characters, a domain of dot-separated labels with at least one dot.
 */
const ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isEmailAddress(value: string): boolean {
  return (
    value.length <= 254 && ADDRESS.test(value) && !value.startsWith('.') && !value.includes('..') && !value.split('@')[0]!.endsWith('.')
  );
}
