import { SignJWT } from 'jose';
import { resolveJwtSecret } from '../../src/auth/signing-key';
import type { Config } from '../../src/config';

/** The demo's tokens live long enough for an afternoon of poking at the API. */
export const DEMO_TOKEN_TTL = '8h';

/**
 * Signs a development token exactly like `npm run token` does (scripts/token.ts): HS256 with
 * JWT_SECRET, or with the development secret kept in the data directory when it is unset.
 */
export async function signToken(config: Config, sub: string, name?: string): Promise<string> {
  const { secret } = resolveJwtSecret(config.jwtSecret, config.dataDir);
  return new SignJWT(name === undefined ? {} : { name })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(DEMO_TOKEN_TTL)
    .sign(secret);
}
