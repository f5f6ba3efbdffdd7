import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Response, type Router } from 'express';

/**
 * The web console (web/, built by Vite into dist/console) served by the API: the page at `/` and
 * the console's routes, hashed assets under /assets (cached for a year: a new build has new
 * names), and GraphiQL at /graphiql outside production. Nothing is loaded from elsewhere, and a
 * strict Content-Security-Policy says so to the browser: scripts, styles and connections to this
 * origin only (the WebSocket included), no inline script, no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** GraphiQL's editor sets inline styles and ships its icons and fonts inline: development only. */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The console's client-side routes: each answers the page, which then routes itself. */
export const CONSOLE_ROUTES = ['/', '/jobs', '/jobs/:id', '/types/:type', '/admin', '/admin/*rest', '/notifications', '/signin'];

/** dist/console, from the compiled server (dist/src/server) or from the sources (src/server, tests). */
export function consoleDirectory(): string {
  const candidates = [path.resolve(__dirname, '../../console'), path.resolve(__dirname, '../../dist/console')];
  return candidates.find((dir) => existsSync(path.join(dir, '.vite', 'manifest.json'))) ?? candidates[candidates.length - 1]!;
}

/** Read at each request (a few hundred bytes): a rebuild under a running server serves its new assets. */
function page(dir: string, name: string): Buffer | undefined {
  try {
    return readFileSync(path.join(dir, name));
  } catch {
    return undefined;
  }
}

function sendPage(res: Response, html: Buffer | undefined, csp: string): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (html === undefined) {
    res.status(503).type('text/plain').send('The console is not built: run `npm run build` (npm start does it).\n');
    return;
  }
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('Cache-Control', 'no-cache');
  res.type('html').send(html);
}

export function consoleRoutes(options: { readonly production: boolean; readonly dir?: string }): Router {
  const dir = options.dir ?? consoleDirectory();
  const router = express.Router();
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false, redirect: false }),
  );
  router.get(CONSOLE_ROUTES, (_req, res) => sendPage(res, page(dir, 'index.html'), CONSOLE_CSP));
  if (!options.production) router.get('/graphiql', (_req, res) => sendPage(res, page(dir, 'graphiql.html'), GRAPHIQL_CSP));
  return router;
}
