/**
 * Prints a signed development token: npm run token -- <sub> [--name "Display Name"] [--ttl 1h]
 * Signs with JWT_SECRET, or with the development secret that `npm start` uses when it is unset,
 * and sets `iss` and `aud` when JWT_ISSUER and JWT_AUDIENCE are set, like the server expects.
 */
import { parseArgs } from 'node:util';
import { signDevToken } from '../src/auth/dev-token';
import { loadConfig } from '../src/config';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, ttl: { type: 'string', default: '1h' } },
  });
  const sub = positionals[0];
  if (sub === undefined || sub.trim() === '') {
    process.stderr.write('usage: npm run token -- <sub> [--name "Display Name"] [--ttl 1h]\n');
    process.exit(2);
  }
  const config = loadConfig();
  if (config.jwksUrl !== undefined) {
    process.stderr.write('JWKS_URL is set: tokens come from your identity provider, not from this script\n');
    process.exit(2);
  }
  process.stdout.write(`${await signDevToken(config, sub, { name: values.name, ttl: values.ttl ?? '1h' })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
