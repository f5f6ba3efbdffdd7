import { SignJWT } from 'jose';
import type { Config } from '../config';
import { resolveJwtSecret } from './signing-key';

/**
 * Signs an HS256 development token that this configuration's server accepts: JWT_SECRET (or the
 * development secret in the data directory), with JWT_ISSUER and JWT_AUDIENCE when they are set.
 * With JWKS_URL, tokens come from the identity provider: there is nothing to sign with here.
 */
export async function signDevToken(config: Config, sub: string, options: { name?: string | undefined; ttl: string }): Promise<string> {
  if (config.jwksUrl !== undefined) throw new Error('JWKS_URL is set: tokens come from your identity provider, not from this server');
  const { secret } = resolveJwtSecret(config.jwtSecret, config.dataDir);
  const jwt = new SignJWT(options.name === undefined ? {} : { name: options.name })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.ttl);
  if (config.jwtIssuer !== undefined) jwt.setIssuer(config.jwtIssuer);
  if (config.jwtAudience !== undefined) jwt.setAudience(config.jwtAudience);
  return jwt.sign(secret);
}
