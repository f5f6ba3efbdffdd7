import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError } from '../graphql/errors';
import type { Principal } from './principal';

/** Longer than any sane JWT; refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;

export type VerifierKey = { kind: 'secret'; secret: Uint8Array } | { kind: 'jwks'; url: string };

/** Verifies bearer tokens with jose: HS256 with a shared secret, or RS256/ES256 from a JWKS. */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(key: VerifierKey) {
    if (key.kind === 'secret') {
      this.key = key.secret;
      this.algorithms = ['HS256'];
    } else {
      this.key = createRemoteJWKSet(new URL(key.url), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
      this.algorithms = ['RS256', 'ES256'];
    }
  }

  /** The principal of an `Authorization` header value (`Bearer <JWT>`); UNAUTHENTICATED otherwise. */
  async fromAuthorization(header: unknown): Promise<Principal> {
    if (typeof header !== 'string' || header.trim() === '') throw new UnauthenticatedError();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new UnauthenticatedError('The authorization must be "Bearer <JWT>"');
    return this.verify(match[1] as string);
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError('The token is too long');
    try {
      const { payload } = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: 5,
      });
      const sub = payload.sub;
      if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) {
        throw new UnauthenticatedError('The token has no usable "sub" claim');
      }
      const name = typeof payload['name'] === 'string' ? payload['name'].slice(0, 200) : null;
      return { id: sub, name, expiresAt: payload.exp as number };
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      if (error instanceof errors.JWTExpired) throw new UnauthenticatedError('The token has expired');
      if (error instanceof errors.JOSEError) throw new UnauthenticatedError(`The token is invalid (${describe(error)})`);
      throw error;
    }
  }
}

function describe(error: InstanceType<typeof errors.JOSEError>): string {
  switch (error.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm not allowed';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return 'claim check failed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no matching key';
    default:
      return 'malformed';
  }
}
