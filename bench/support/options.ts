/** Reading a bench's command line: its options, whole numbers with a floor, and comma-separated lists of them. */
import path from 'node:path';
import { parseArgs } from 'node:util';

/** A mistake on the command line: the bench prints it and its usage, without a stack, and exits with 2. */
export class UsageError extends Error {}

type OptionSpec = { readonly type: 'string'; readonly default?: string } | { readonly type: 'boolean'; readonly default?: boolean };

/** `npm run bench:x -- [--a 10] [--b]`, from the options and their defaults. */
function usageOf(options: Readonly<Record<string, OptionSpec>>): string {
  const name = path.basename(process.argv[1] ?? 'bench').replace(/\.[jt]s$/, '');
  const flags = Object.entries(options).map(([flag, spec]) =>
    spec.type === 'boolean' ? `[--${flag}]` : `[--${flag} ${spec.default ?? '<value>'}]`,
  );
  return `usage: npm run bench:${name} -- ${flags.join(' ')}\n(the defaults shown; what each means: the comment at the top of bench/${name}.ts)`;
}

/**
 * The bench's options (node:util's parseArgs, strict): `--help` prints the usage and exits; an
 * unknown option, a missing value or a stray argument is a UsageError.
 */
export function benchOptions<const T extends Readonly<Record<string, OptionSpec>>>(options: T) {
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(`${usageOf(options)}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${usageOf(options)}`);
  }
}

/** `raw` as an integer of at least `min`, or a UsageError that names the option. */
export function integerOption(name: string, raw: string | undefined, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

/** `raw` as comma-separated integers of at least `min` each. */
export function integerListOption(name: string, raw: string | undefined, min: number): number[] {
  return (raw ?? '').split(',').map((item) => integerOption(name, item.trim(), min));
}
