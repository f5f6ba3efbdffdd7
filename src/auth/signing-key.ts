import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The HS256 secret: JWT_SECRET when set. Otherwise (development only; production refuses to
 * start without JWT_SECRET or JWKS_URL) a random secret kept in `<dataDir>/dev-jwt-secret`, so
 * that `npm start` and `npm run token` agree with no configuration at all.
 */
export function resolveJwtSecret(jwtSecret: string | undefined, dataDir: string): { secret: Uint8Array; source: 'env' | 'dev-file' } {
  if (jwtSecret !== undefined) return { secret: new TextEncoder().encode(jwtSecret), source: 'env' };
  const file = path.resolve(dataDir, 'dev-jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return { secret: new TextEncoder().encode(readFileSync(file, 'utf8').trim()), source: 'dev-file' };
}
