/** How every bench prints: lines on stdout, PASS/MISS beside a target, the load average, a failure. */
import { loadavg } from 'node:os';
import { UsageError } from './options';

export const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** A target's line: PASS or MISS, then what was measured (figures, never assertions). */
export const check = (ok: boolean, text: string): void => print(`  ${ok ? 'PASS' : 'MISS'}  ${text}`);

/** The 1, 5 and 15 minute load averages, two decimals each. */
export const loadAverage = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** Runs the bench's main; a failure is printed under the bench's name and sets a failing exit code. */
export function runBench(name: string, main: () => Promise<void>, after?: () => Promise<void>): void {
  main()
    .catch((error: unknown) => {
      process.stderr.write(failure(name, error));
      process.exitCode = error instanceof UsageError ? 2 : 1;
    })
    .finally(() => void after?.());
}

/** What a bench prints when it fails: the stack of an error, one line and the usage for a mistake on the command line. */
export function failure(name: string, error: unknown): string {
  if (error instanceof UsageError) return `${name}: ${error.message}\n`;
  return `${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
}
