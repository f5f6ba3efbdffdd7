import type { Router } from 'express';
import express from 'express';
import type { DataSource } from 'typeorm';

/** What readiness asks of the LISTEN connection (PgListener). */
export interface ListenerState {
  readonly connected: boolean;
}

/**
 * `/healthz`: the process is alive. `/readyz`: the database answers, no migration is pending and
 * the LISTEN connection is up (without it subscriptions, permission changes and alerts would go
 * unheard), so a load balancer only sends traffic to an instance that can serve it.
 */
export function healthRoutes(dataSource: DataSource, listener: ListenerState): Router {
  const router = express.Router();
  let migrationsChecked = false;
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      // A dead database can make a connection attempt hang: answer within two seconds anyway.
      await Promise.race([
        dataSource.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('readiness check timed out')), 2_000).unref()),
      ]);
      if (!migrationsChecked) {
        if (await dataSource.showMigrations()) {
          res.status(503).json({ status: 'unavailable', reason: 'migrations pending' });
          return;
        }
        migrationsChecked = true;
      }
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
      return;
    }
    if (!listener.connected) {
      res.status(503).json({ status: 'unavailable', reason: 'LISTEN connection down' });
      return;
    }
    res.json({ status: 'ready' });
  });
  return router;
}
