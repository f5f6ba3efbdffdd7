/** Reading a bench's command-line figures: whole numbers with a floor, and comma-separated lists of them. */

/** `raw` as an integer of at least `min`, or an error that names the option. */
export function integerOption(name: string, raw: string | undefined, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

/** `raw` as comma-separated integers of at least `min` each. */
export function integerListOption(name: string, raw: string | undefined, min: number): number[] {
  return (raw ?? '').split(',').map((item) => integerOption(name, item.trim(), min));
}
