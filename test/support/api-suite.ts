import type { Client } from 'graphql-ws';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { createRole, grant, insertJobs, type JobSeed } from './fixtures';
import { beginTestDatabase, type TestDatabase } from './test-database';
import { gqlOk, loadServerModules, type ServerOptions, startTestServer, token, type TestServer } from './test-server';
import { wsClient } from './ws-client';

/** A grant given before the file's tests run: user, role, and a scope (none: everywhere). */
export type SuiteGrant = readonly [user: string, role: string, scope?: string | null];

export interface ApiSuiteOptions {
  /**
   * The server's environment on top of startTestServer's test defaults. A function is called in
   * beforeAll once the database exists, for what is known only then: the address of a receiver or
   * of a fault proxy in front of the database (`DATABASE_URL: proxy.via(db.url)`) started there.
   */
  readonly env?: Record<string, string> | ((db: TestDatabase) => Record<string, string> | Promise<Record<string, string>>);
  /**
   * The suite's server reaches its database through a fault proxy (`suite.proxy`), which the
   * file's tests cut and restore; closed after the servers.
   */
  readonly faultProxy?: boolean;
  /** The daemon's timer (off: tests call `server.services.daemon.tick()`). */
  readonly daemon?: boolean;
  /** Alert delivery (on unless false). */
  readonly alerts?: boolean;
  /** Roles created before the grants, by name. */
  readonly roles?: Record<string, unknown[]>;
  /** Grants; by default `admin` is an admin and `worker` a worker. */
  readonly grants?: readonly SuiteGrant[];
  /** Users with a signed token in `tokens`, beside `admin` and `worker`. */
  readonly users?: readonly string[];
}

/**
 * What an API test file shares, set in beforeAll: its own database, a server on it, tokens, and
 * `client(bearer)`, graphql-ws clients of that server. afterAll disposes the clients, closes every
 * server the suite started and drops the database: a file leaves nothing running behind it.
 */
export interface ApiSuite {
  readonly db: TestDatabase;
  readonly server: TestServer;
  /** With the `faultProxy` option: the proxy between the suite's server and its database. */
  readonly proxy: FaultProxy;
  /** The token of `admin`. */
  readonly admin: string;
  /** The token of `worker`. */
  readonly worker: string;
  /** Signed tokens of `admin`, `worker` and the `users` option. */
  readonly tokens: Readonly<Record<string, string>>;
  /** With `retry`, the client reconnects when its socket is lost (wsClient's retry). */
  client(bearer: string, on?: TestServer, options?: { retry?: boolean }): Client;
  /** Runs `dispose` in afterAll, before the servers close (workers, receivers a test started). */
  disposeFirst(dispose: () => unknown): void;
  /**
   * Another server (a second instance) on the suite's database, or on `databaseUrl` (through a
   * fault proxy, say); closed in afterAll unless the test closes it first.
   */
  startServer(env?: Record<string, string>, options?: ServerOptions & { databaseUrl?: string }): Promise<TestServer>;
}

const DEFAULT_GRANTS: readonly SuiteGrant[] = [
  ['admin', 'admin'],
  ['worker', 'worker'],
];

/**
 * Registers the hooks of an ApiSuite at the top of a test file; read its fields inside tests and
 * hooks only. A file's own beforeAll, declared after this call, runs after the suite's.
 */
export function apiSuite(options: ApiSuiteOptions = {}): ApiSuite {
  const clients: Client[] = [];
  const servers: TestServer[] = [];
  const leftovers: Array<() => unknown> = [];
  let proxy: FaultProxy | undefined;
  const suite = {
    disposeFirst(dispose: () => unknown) {
      leftovers.push(dispose);
    },
    client(bearer: string, on?: TestServer, clientOptions: { retry?: boolean } = {}): Client {
      const created = wsClient((on ?? suite.server).url, bearer, clientOptions);
      clients.push(created);
      return created;
    },
    async startServer(env: Record<string, string> = {}, serverOptions: ServerOptions & { databaseUrl?: string } = {}) {
      const { databaseUrl, ...rest } = serverOptions;
      const started = await startTestServer(databaseUrl === undefined ? suite.db : { ...suite.db, url: databaseUrl }, env, rest);
      servers.push(started);
      return started;
    },
  } as { -readonly [K in keyof ApiSuite]: ApiSuite[K] };

  beforeAll(async () => {
    const cloning = await beginTestDatabase();
    loadServerModules(); // while Postgres clones the database
    suite.db = await cloning.ready;
    const env = typeof options.env === 'function' ? await options.env(suite.db) : options.env;
    if (options.faultProxy === true) proxy = suite.proxy = await startFaultProxy(suite.db.url);
    suite.server = await suite.startServer(env, {
      ...(options.daemon === undefined ? {} : { daemon: options.daemon }),
      ...(options.alerts === undefined ? {} : { alerts: options.alerts }),
      ...(options.faultProxy === true ? { databaseUrl: suite.proxy.via(suite.db.url) } : {}),
    });
    for (const [name, rules] of Object.entries(options.roles ?? {})) await createRole(suite.db.pool, name, rules);
    for (const [user, role, scope] of options.grants ?? DEFAULT_GRANTS) await grant(suite.db.pool, user, role, scope ?? null);
    const tokens: Record<string, string> = {};
    for (const user of new Set(['admin', 'worker', ...(options.users ?? [])])) tokens[user] = await token(user);
    suite.tokens = tokens;
    suite.admin = tokens['admin']!;
    suite.worker = tokens['worker']!;
  });
  afterAll(async () => {
    await Promise.all(leftovers.map(async (dispose) => dispose()));
    await Promise.all(clients.map(async (client) => client.dispose()));
    // close() of a server already closed by its test is a no-op.
    await Promise.all(servers.map(async (server) => server.close()));
    await proxy?.close();
    await suite.db?.drop();
  });
  return suite;
}

export interface ClaimedJob {
  readonly id: string;
  readonly lease: string;
  readonly name: string;
}

export interface ClaimOptions {
  /** The job inserted before the claim (its type is the one claimed); `false`: claim a job already there. */
  readonly seed?: JobSeed | false;
  readonly workerId?: string;
  /** Claim through this server rather than the suite's. */
  readonly on?: TestServer;
}

/**
 * Inserts a PENDING job of `type` and claims it as `worker`: the claim succeeds and hands over
 * that very job. With `seed: false`, claims whichever job of `type` is due (and fails when none is).
 */
export async function claimedJob(
  suite: Pick<ApiSuite, 'db' | 'server' | 'worker'>,
  type: string,
  options: ClaimOptions = {},
): Promise<ClaimedJob> {
  const inserted = options.seed === false ? undefined : (await insertJobs(suite.db.pool, [{ ...options.seed, type }]))[0]!.id;
  const { claimJob } = gqlOk(
    await (options.on ?? suite.server).gql<{ claimJob: { lease: string; job: { id: string; name: string } } | null }>(
      suite.worker,
      'mutation($t: [String!], $w: String!) { claimJob(workerId: $w, types: $t) { lease job { id name } } }',
      { t: [type], w: options.workerId ?? 'w' },
    ),
  );
  if (claimJob === null) throw new Error(`no ${type} job to claim`);
  if (inserted !== undefined && claimJob.job.id !== inserted)
    throw new Error(`claimed ${claimJob.job.id}, not the ${type} job just inserted`);
  return { id: claimJob.job.id, lease: claimJob.lease, name: claimJob.job.name };
}
