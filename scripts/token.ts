/**
 * Prints a signed development token: npm run token -- <sub> [--name "Display Name"] [--ttl 1h]
 * Signs with JWT_SECRET, or with the development secret that `npm start` uses when it is unset.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loadConfig } from '../src/config';
import { resolveJwtSecret } from '../src/auth/signing-key';

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
  if (config.jwksUrl !== undefined && config.jwtSecret === undefined) {
    process.stderr.write('JWKS_URL is set: tokens come from your identity provider, not from this script\n');
    process.exit(2);
  }
  const { secret } = resolveJwtSecret(config.jwtSecret, config.dataDir);
  const claims = values.name === undefined ? {} : { name: values.name };
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(values.ttl ?? '1h')
    .sign(secret);
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
