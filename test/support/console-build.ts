import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
/** Where the browser tests leave what a person may look at: screenshots and measured figures. */
export const OUTPUT_DIR = path.join(ROOT, 'test-output', 'console');

/** Builds dist/console when its sources changed since the last build (web/build.mjs skips it otherwise). */
export function buildConsole(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'web', 'build.mjs')], { cwd: ROOT, stdio: 'inherit', timeout: 300_000 });
}
