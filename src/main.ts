import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startServer } from './server/start-server';

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
  const log = createLogger(config.logLevel);
  const server = await startServer(config, { log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // An orchestrator kills a process that takes too long anyway: before that, cut the shutdown
    // short ourselves, but write the progress workers reported first (it is only in memory).
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time; writing pending progress and exiting');
      const flushed = server.services.progress.flush().catch((error: unknown) => log.error({ err: error }, 'last progress flush failed'));
      const gaveUp = new Promise((resolve) => setTimeout(resolve, LAST_FLUSH_MS));
      void Promise.race([flushed, gaveUp]).then(() => process.exit(1));
    }, config.shutdownTimeoutMs);
    server.close().then(
      () => {
        clearTimeout(deadline);
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`jobwatch: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
