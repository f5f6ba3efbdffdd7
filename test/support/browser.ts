import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * A real Chromium for the console's tests, driven by playwright-core: CHROMIUM_PATH when set, else
 * a system Chromium or Chrome, else the one the npm package @sparticuz/chromium ships (unpacked to
 * the temporary directory on first use), so `npm test` runs them on a machine with only Node.
 */
const SYSTEM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

function packagedChromium(): string {
  // @sparticuz/chromium is ESM-only: asked in a child Node, outside Jest's module sandbox.
  const script = "import('@sparticuz/chromium').then(async (m) => process.stdout.write(await m.default.executablePath()))";
  return execFileSync(process.execPath, ['-e', script], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
    timeout: 120_000,
  }).trim();
}

export function chromiumPath(): string {
  const configured = process.env['CHROMIUM_PATH'];
  if (configured !== undefined && configured !== '') return configured;
  return SYSTEM.find((file) => existsSync(file)) ?? packagedChromium();
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: 120_000,
    // Tests run as root in containers: no sandbox there. No GPU process: Chromium paints in software,
    // as on a machine without a GPU (SwiftShader's emulated GL cost console.test.ts 12 s more CPU).
    args: ['--no-sandbox', '--disable-setuid-sandbox', '--no-zygote', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}
