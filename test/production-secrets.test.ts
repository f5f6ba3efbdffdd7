import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../src/config';
import { PLACEHOLDER_SECRETS } from '../src/util/secret-strength';

/**
 * A production server refuses to start with the compose file's placeholder secrets, or with keys
 * that are not random, and says which variable and how to make a good one.
 */
const root = path.resolve(__dirname, '..');
const STRONG_JWT = randomBytes(32).toString('hex');
const STRONG_KEY = randomBytes(32).toString('hex');
const production = (env: Record<string, string>) =>
  loadConfig({ NODE_ENV: 'production', JWT_SECRET: STRONG_JWT, SECRETS_KEY: STRONG_KEY, ...env });

/** The `${VAR:-default}` defaults docker-compose.yml gives the api service. */
function composeDefaults(): Record<string, string> {
  const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
    services: { api: { environment: Record<string, string> } };
  };
  const defaults: Record<string, string> = {};
  for (const value of Object.values(compose.services.api.environment)) {
    const match = /^\$\{(\w+):-(.*)\}$/.exec(String(value));
    if (match !== null) defaults[match[1]!] = match[2]!;
  }
  return defaults;
}

describe('production secrets', () => {
  test('random keys pass, written as hex or base64', () => {
    for (let i = 0; i < 200; i += 1) {
      const bytes = randomBytes(32);
      expect(() => production({ JWT_SECRET: bytes.toString('hex'), SECRETS_KEY: randomBytes(32).toString('hex') })).not.toThrow();
      expect(() => production({ JWT_SECRET: bytes.toString('base64'), SECRETS_KEY: randomBytes(32).toString('base64') })).not.toThrow();
      expect(() => production({ JWT_SECRET: bytes.toString('base64url') })).not.toThrow();
      expect(() => production({ JWT_SECRET: bytes.toString('hex').toUpperCase() })).not.toThrow();
    }
  });

  test('the placeholders in docker-compose.yml are refused, naming the variable', () => {
    const defaults = composeDefaults();
    expect(defaults['JWT_SECRET']).toBeDefined();
    expect(defaults['SECRETS_KEY']).toBeDefined();
    expect(PLACEHOLDER_SECRETS).toEqual(new Set([defaults['JWT_SECRET'], defaults['SECRETS_KEY']]));
    expect(() => production({ JWT_SECRET: defaults['JWT_SECRET']! })).toThrow(
      /^JWT_SECRET is not a random secret \(it is the placeholder from docker-compose.yml\); with NODE_ENV=production, generate one with `openssl rand -hex 32`$/,
    );
    expect(() => production({ SECRETS_KEY: defaults['SECRETS_KEY']! })).toThrow(
      /^SECRETS_KEY is not a random key \(it is the placeholder from docker-compose.yml\)/,
    );
  });

  test.each([
    ['all zeros (base64)', 'SECRETS_KEY', Buffer.alloc(32).toString('base64'), /all zeros/],
    ['one byte repeated', 'SECRETS_KEY', 'ab'.repeat(32), /one symbol repeated/],
    ['a 16-byte key written twice', 'SECRETS_KEY', randomBytes(16).toString('hex').repeat(2), /repeats a pattern of 16/],
    [
      'a counting key',
      'SECRETS_KEY',
      Buffer.from(Array.from({ length: 32 }, (_, i) => i % 4)).toString('hex'),
      /pattern of 4|only 4 different/,
    ],
    ['a character repeated', 'JWT_SECRET', 'x'.repeat(40), /one symbol repeated/],
    ['a word repeated', 'JWT_SECRET', 'secret'.repeat(10), /repeats a pattern of 6/],
    ['a sentence', 'JWT_SECRET', 'this is the production secret of our jobwatch server', /at most 116 bits/],
    ['the same words again and again', 'JWT_SECRET', 'jobs watch '.repeat(12), /repeats a pattern of 2 words/],
    ['24 random bytes (192 bits)', 'JWT_SECRET', randomBytes(24).toString('hex'), /at most 192 bits/],
    ['40 lowercase letters', 'JWT_SECRET', 'qwhzkvtmrnbxplcaydgfjseuoiqzmxnvbkrlhtpw', /at most 240 bits/],
  ])('%s as %s is refused', (_name, variable, value, why) => {
    expect(() => production({ [variable]: value })).toThrow(ConfigError);
    expect(() => production({ [variable]: value })).toThrow(new RegExp(`^${variable} is not a random`));
    expect(() => production({ [variable]: value })).toThrow(why);
  });

  test('outside production the same keys are accepted (tests and try-outs)', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: '0'.repeat(64) })).not.toThrow();
    expect(() => loadConfig({ JWT_SECRET: 'change-me-to-a-secret-of-at-least-32-bytes', SECRETS_KEY: '0'.repeat(64) })).not.toThrow();
  });

  test('the server process refuses to start with the placeholders: exit 2 and one line saying why', async () => {
    const defaults = composeDefaults();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'jobwatch-secrets-'));
    const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env['PATH'],
        NODE_ENV: 'production',
        // Never reached: the configuration is refused before any connection.
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        DATA_DIR: dataDir,
        JWT_SECRET: defaults['JWT_SECRET']!,
        SECRETS_KEY: STRONG_KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close', not 'exit': at 'exit' what the child wrote may still be on its way through the pipes.
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve)).finally(() =>
      rmSync(dataDir, { recursive: true, force: true }),
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'jobwatch: JWT_SECRET is not a random secret (it is the placeholder from docker-compose.yml); with NODE_ENV=production, generate one with `openssl rand -hex 32`\n',
    );
    // The child compiles the TypeScript it loads first: on a busy machine that takes a while.
  }, 150_000);
});
