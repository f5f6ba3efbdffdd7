/**
 * The API as a bench runs it: a child process on a free port, in production mode, with tokens
 * signed by the secret it was given. Each bench adds the settings its measure needs.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { findFreePort } from '../../src/util/free-port';
import { type Child, startChild, waitForHttp } from './processes';

/**
 * Node's flags for the API, as `npm start` and the Docker image run it (test/start-command.test.ts
 * keeps the three in step). Without allocation-site pretenuring: once most objects of an
 * allocation site have outlived a young-generation collection, V8 allocates that site's objects
 * in the old generation from then on, even after the load that made them live long is gone.
 * bench:list right after a fresh seed (requests slowed by Postgres's autovacuum): three runs of
 * three stayed at 0.20-0.22 ms of GC per list request and 0.68x-0.73x of the floor; with this
 * flag two of two ran at 0.04 ms and 0.80x-0.90x. bench:subscriptions did not lose by it.
 */
export const API_NODE_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

/** Settings that let a worker report as fast as it can, and keep the daemon from ending the jobs measured. */
export const UNTHROTTLED_WORKERS_ENV = {
  WORKER_RATE_LIMIT_PER_SECOND: '1000000',
  WORKER_RATE_LIMIT_BURST: '1000000',
  // The daemon must not end the jobs while they are measured.
  HEARTBEAT_TIMEOUT_MS: '86400000',
  DAEMON_INTERVAL_MS: '3600000',
} as const;

/** The environment of an API on `databaseUrl` whose tokens are signed with `jwtSecret`. */
export function apiEnv(databaseUrl: string, jwtSecret: string): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret,
    SECRETS_KEY: randomBytes(32).toString('hex'),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
  };
}

/** The environment without the settings that would let other identities in (JWKS, bootstrap admins). */
export function inheritedEnv(): NodeJS.ProcessEnv {
  const { JWKS_URL: _jwks, BOOTSTRAP_ADMINS: _admins, ...inherited } = process.env;
  return inherited;
}

export interface RunningServer {
  readonly child: Child;
  readonly port: number;
  /** Its HTTP base URL. */
  readonly base: string;
}

/** Starts `node ...args` with `env` and PORT set to a free port; answers once GET `readyPath` answers 200. */
export async function startServer(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  readyPath = '/readyz',
): Promise<RunningServer> {
  const port = await findFreePort();
  const child = startChild(name, args, { ...env, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}${readyPath}`, child);
  return { child, port, base };
}

/** An HS256 token for `subject`, as the API verifies them. */
export function signToken(secret: string, subject: string, expiresIn: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
