import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { loadConfig } from '../../src/config';
import type * as StartServerModule from '../../src/app/start-server';
import type { RunningServer, StartOptions } from '../../src/app/start-server';
import type { TestDatabase } from './test-database';

export const TEST_JWT_SECRET = 'df0dd10cf2f6b5e0b07b3afecd96db5ebb1588905d82d8b30629fa62be1f547a';
export const TEST_SECRETS_KEY = '78bc675c22a654df754ae5e7efca446b3b0a901e06c5e6f2cfc713741696c3fd';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export interface TestServer extends RunningServer {
  /** POST a GraphQL request as the bearer of `token` (no header when undefined). */
  gql<T = Record<string, unknown>>(
    token: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
}

/** Signs a token the test servers accept. */
export async function token(sub: string, options: { name?: string; ttlSeconds?: number; secret?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(options.name === undefined ? {} : { name: options.name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** The data of a response that has no errors; throws with the errors otherwise. */
export function gqlOk<T>(response: GraphQLResponse<T>): T {
  if (response.errors !== undefined || response.data == null) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
  return response.data;
}

export async function postGraphQL<T>(
  url: string,
  bearer: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T | null; errors?: NonNullable<GraphQLResponse['errors']> };
  return { status: response.status, ...body };
}

let serverModule: typeof StartServerModule | undefined;

/**
 * The server's modules (some 1,800 of them: Apollo, TypeORM, type-graphql, the app), loaded on
 * first use rather than when this file is imported. apiSuite loads them while Postgres clones the
 * file's database: the two took about 0.5 s each, one after the other, in every test file.
 */
export function loadServerModules(): typeof StartServerModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when asked for, see above
  return (serverModule ??= require('../../src/app/start-server') as typeof StartServerModule);
}

/** A real server on a free port over the test file's own database. */
/** What a test may set on a server beyond its environment. */
export type ServerOptions = Pick<StartOptions, 'daemon' | 'alerts' | 'connectionInitTimeoutMs'>;

export async function startTestServer(
  db: TestDatabase,
  env: Record<string, string> = {},
  options: ServerOptions = {},
): Promise<TestServer> {
  // Keys a development start would write; removed on close (a test run starts hundreds of servers).
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jobwatch-data-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  const start = async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      SECRETS_KEY: TEST_SECRETS_KEY,
      PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      // Tests fire mutations as fast as they can; rate limiting has tests of its own.
      RATE_LIMIT_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
      WORKER_RATE_LIMIT_PER_SECOND: '1000000',
      WORKER_RATE_LIMIT_BURST: '1000000',
      // Ticks by hand come at whatever pace the test goes: a pause between them is no outage
      // (an outage would give backdated heartbeats a fresh timeout). Timed daemons keep the default.
      ...(options.daemon === true ? {} : { DAEMON_OUTAGE_MS: String(7 * 86_400_000) }),
      ...env,
    });
    // The daemon's timer is off unless asked for: tests backdate rows and call daemon.tick().
    return loadServerModules().startServer(config, {
      host: '127.0.0.1',
      poolSize: 5,
      ...options,
      daemon: options.daemon ?? false,
      alerts: options.alerts ?? true,
    });
  };
  let server: RunningServer;
  try {
    server = await start();
  } catch (error) {
    removeDataDir();
    throw error;
  }
  // Closing twice (a test closes a server its suite closes again in afterAll) closes once.
  let closing: Promise<void> | undefined;
  return {
    ...server,
    close: async () => (closing ??= server.close().finally(removeDataDir)),
    gql: <T>(bearer: string | undefined, query: string, variables?: Record<string, unknown>) =>
      postGraphQL<T>(server.url, bearer, query, variables),
  };
}
