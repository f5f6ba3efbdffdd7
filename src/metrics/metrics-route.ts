import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import type { Registry } from 'prom-client';

/**
 * GET /metrics in Prometheus' text format. With METRICS_TOKEN set it asks for
 * `Authorization: Bearer <METRICS_TOKEN>`; without it the route is open outside production and
 * absent in production (a 404, like any unknown path): the figures name operations, job rules
 * and the instance's load, which are nobody else's business.
 */
export function metricsRoute(registry: Registry, options: { readonly token: string | undefined; readonly production: boolean }): Router {
  const router = express.Router();
  if (options.token === undefined && options.production) return router;
  const expected = options.token === undefined ? undefined : digest(options.token);
  router.get('/metrics', async (req, res) => {
    if (expected !== undefined) {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        res
          .status(401)
          .set('www-authenticate', 'Bearer realm="metrics"')
          .json({ error: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' });
        return;
      }
    }
    try {
      const body = await registry.metrics();
      res.set('content-type', registry.contentType).set('cache-control', 'no-store').send(body);
    } catch (error) {
      req.log.error({ err: error }, 'could not collect metrics');
      res.status(500).json({ error: 'could not collect metrics' });
    }
  });
  return router;
}

/** Equal-length digests, so the comparison takes the same time whatever was sent. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
