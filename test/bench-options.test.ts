import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * A bench's command line, as its user meets it: `--help` prints the usage with the defaults;
 * an unknown option or a bad figure is one line and the usage, exit code 2, never a stack.
 */
function bench(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', './test/support/ts-register.js', 'bench/list.ts', ...args],
      { cwd: path.resolve(__dirname, '..'), env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number | null), stdout, stderr }),
    );
  });
}

test('--help prints the usage with the defaults; a mistake is one line and the usage, exit 2, no stack', async () => {
  const [help, unknown, notANumber] = await Promise.all([bench('--help'), bench('--nope'), bench('--jobs', 'many')]);
  expect(help).toEqual({
    code: 0,
    stdout: expect.stringContaining('usage: npm run bench:list -- [--jobs 1000000] [--duration 10]') as string,
    stderr: '',
  });
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/^bench:list: Unknown option '--nope'\nusage: npm run bench:list -- \[--jobs 1000000\]/);
  expect(notANumber).toEqual({ code: 2, stdout: '', stderr: 'bench:list: --jobs must be an integer >= 1000, got "many"\n' });
  for (const run of [unknown, notANumber]) expect(run.stderr).not.toMatch(/^\s+at /m);
}, 60_000);
