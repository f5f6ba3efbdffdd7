import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { UnauthenticatedError } from '../errors';
import type { Principal } from './principal';

/** Longer than any sane JWT; refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;
/** Verified tokens remembered: a client sends the same token with every request until it expires. */
const MAX_REMEMBERED = 10_000;
/** A remembered token is verified again after this long at the latest (keys rotate, JWKS change). */
const REMEMBER_MS = 5 * 60_000;
/** jose's default leeway for `exp`, the same for remembered tokens. */
const CLOCK_TOLERANCE_SECONDS = 5;

export type VerifierKey = { kind: 'secret'; secret: Uint8Array } | { kind: 'jwks'; url: string };

/**
 * Claims a token must carry when configured (JWT_ISSUER, JWT_AUDIENCE). With a JWKS shared by
 * many applications of one identity provider, the audience is what keeps a token minted for
 * another application out; the issuer keeps out another tenant of the same key set.
 */
export interface ExpectedClaims {
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

/** Verifies bearer tokens with jose: HS256 with a shared secret, or RS256/ES256 from a JWKS. */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;
  /** Tokens verified lately, exactly as sent, until they expire or REMEMBER_MS passes. */
  private readonly verified = new Map<string, { readonly principal: Principal; readonly until: number }>();

  constructor(key: VerifierKey, expected: ExpectedClaims = {}) {
    let algorithms: string[];
    if (key.kind === 'secret') {
      this.key = key.secret;
      algorithms = ['HS256'];
    } else {
      this.key = createRemoteJWKSet(new URL(key.url), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
      // Asymmetric only: an HS256 token "signed" with a public key must never pass.
      algorithms = ['RS256', 'ES256'];
    }
    this.options = {
      algorithms,
      requiredClaims: ['sub', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      ...(expected.issuer === undefined ? {} : { issuer: expected.issuer }),
      ...(expected.audience === undefined ? {} : { audience: expected.audience }),
    };
  }

  /** The principal of an `Authorization` header value (`Bearer <JWT>`); UNAUTHENTICATED otherwise. */
  async fromAuthorization(header: unknown): Promise<Principal> {
    if (typeof header !== 'string' || header.trim() === '') throw new UnauthenticatedError();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new UnauthenticatedError('The authorization must be "Bearer <JWT>"');
    return this.verify(match[1] as string);
  }

  /**
   * The token's principal. A token verified in the last few minutes is not verified again (its
   * signature cannot have changed: the cache is keyed by the whole token), only its expiry is
   * checked: signature checks with WebCrypto were a tenth of a list request's CPU.
   */
  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError('The token is too long');
    const now = Date.now();
    const remembered = this.verified.get(token);
    if (remembered !== undefined) {
      if (now < remembered.until) return remembered.principal;
      this.verified.delete(token);
    }
    const principal = await this.verifyNow(token);
    const expires = (principal.expiresAt + CLOCK_TOLERANCE_SECONDS) * 1000;
    if (this.verified.size >= MAX_REMEMBERED) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { principal, until: Math.min(expires, now + REMEMBER_MS) });
    return principal;
  }

  private async verifyNow(token: string): Promise<Principal> {
    try {
      // One call for both key kinds: jose picks the overload from the key at run time.
      const { payload } = await jwtVerify(token, this.key as Uint8Array, this.options);
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
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'wrong issuer';
      case 'aud':
        return 'wrong audience';
      default:
        return `"${error.claim}" check failed`;
    }
  }
  switch (error.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm not allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no matching key';
    default:
      return 'malformed';
  }
}
