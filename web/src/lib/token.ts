/**
 * The viewer's token: taken from a sign-in link (`/#token=<jwt>`, then removed from the address
 * bar so it is not bookmarked or shared) or pasted on the sign-in page, and kept in sessionStorage
 * (this tab only, gone when it closes). An expired token counts as none.
 */
const KEY = 'jobwatch.token';

export interface Claims {
  readonly sub?: string;
  readonly name?: string;
  readonly exp?: number;
}

export function claimsOf(token: string): Claims | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? claims : undefined;
  } catch {
    return undefined;
  }
}

export function expired(token: string, now = Date.now()): boolean {
  const exp = claimsOf(token)?.exp;
  return exp !== undefined && exp * 1000 <= now;
}

/** Moves a `#token=` from the address bar into sessionStorage; answers whether there was one, and expired. */
export function takeTokenFromFragment(): 'none' | 'taken' | 'expired' {
  const match = /^#token=([^&]+)/.exec(window.location.hash);
  if (match?.[1] === undefined) return 'none';
  const token = decodeURIComponent(match[1]);
  history.replaceState(history.state, '', window.location.pathname + window.location.search);
  if (expired(token)) return 'expired';
  sessionStorage.setItem(KEY, token);
  return 'taken';
}

export function storedToken(): string | undefined {
  const token = sessionStorage.getItem(KEY) ?? undefined;
  if (token !== undefined && expired(token)) {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
  return token;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
