import { signDevToken } from '../../src/auth/dev-token';
import type { Config } from '../../src/config';

/** The demo's tokens live long enough for an afternoon of poking at the API. */
export const DEMO_TOKEN_TTL = '8h';

/** Signs a development token exactly like `npm run token` does (src/auth/dev-token.ts). */
export function signToken(config: Config, sub: string, name?: string): Promise<string> {
  return signDevToken(config, sub, { name, ttl: DEMO_TOKEN_TTL });
}
