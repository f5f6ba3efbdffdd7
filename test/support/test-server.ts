import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { loadConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server/start-server';
import type { TestDatabase } from './test-database';

export const TEST_JWT_SECRET = 'jobwatch-test-secret-0123456789abcdef';
export const TEST_SECRETS_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export interface TestServer extends RunningServer {
  /** POST a GraphQL request as the bearer of `token` (no header when undefined). */
  gql<T = Record<string, unknown>>(token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
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
  const body = (await response.json()) as { data?: T | null; errors?: GraphQLResponse['errors'] };
  return { status: response.status, ...body };
}

/** A real server on a free port over the test file's own database. */
export async function startTestServer(
  db: TestDatabase,
  env: Record<string, string> = {},
  options: { daemon?: boolean; alerts?: boolean } = {},
): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    JWT_SECRET: TEST_JWT_SECRET,
    SECRETS_KEY: TEST_SECRETS_KEY,
    PORT: '0',
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'jobwatch-data-')),
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    // Tests fire mutations as fast as they can; rate limiting has tests of its own.
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    WORKER_RATE_LIMIT_PER_SECOND: '1000000',
    WORKER_RATE_LIMIT_BURST: '1000000',
    ...env,
  });
  // The daemon's timer is off unless asked for: tests backdate rows and call daemon.tick().
  const server = await startServer(config, { host: '127.0.0.1', poolSize: 5, daemon: options.daemon ?? false, alerts: options.alerts ?? true });
  return {
    ...server,
    gql: <T>(bearer: string | undefined, query: string, variables?: Record<string, unknown>) =>
      postGraphQL<T>(server.url, bearer, query, variables),
  };
}
