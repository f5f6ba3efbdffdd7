import type { RequestHandler } from 'express';

/**
 * Browsers send `Origin`. A request from the API's own origin or one in CORS_ORIGINS passes;
 * any other is refused before GraphQL runs, so a foreign page cannot use a victim's browser
 * (cookies are not used, but tokens can sit in a browser's reach). Requests without Origin
 * (servers, workers, curl) are not browsers' and pass.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes(origin) || allowed.includes('*')) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function refuseForeignOrigins(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    if (originAllowed(req.headers.origin, req.headers.host, allowed)) {
      next();
      return;
    }
    res.status(403).json({
      errors: [{ message: `The origin ${String(req.headers.origin).slice(0, 200)} is not allowed`, extensions: { code: 'FORBIDDEN' } }],
    });
  };
}
