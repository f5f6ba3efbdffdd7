/**
 * npm run demo: a living monitor for newcomers, in one command.
 *
 * Starts the API in this process (DATABASE_URL, or the embedded Postgres under DATA_DIR), grants
 * the demo users their roles, prints the URL and ready-to-paste tokens, then starts worker
 * processes (scripts/demo/worker.ts) and a feeder (scripts/demo/feeder.ts) that creates jobs of
 * the seeds' kinds and acts on them the way people do: approvals, trap decisions, cancels.
 * Ctrl-C stops the feeder, then the workers, then the server.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer, type RunningServer } from '../src/app/start-server';
import { DemoUser } from './demo/api';
import { Feeder } from './demo/feeder';
import { StatusLine } from './demo/status';
import { DEMO_TOKEN_TTL, signToken } from './demo/tokens';
import { WorkerFleet } from './demo/workers';
import { errorText, paint, say } from './demo/util';

/** Settings that make the demo lively; a value the user set wins. */
const DEMO_SETTINGS: Readonly<Record<string, string>> = {
  HEARTBEAT_TIMEOUT_MS: '10000',
  CANCEL_GRACE_MS: '10000',
  PROGRESS_FLUSH_MS: '200',
};

/** [user, role, scope]: the same people as `npm run seed`, plus the demo's worker principal. */
const DEMO_GRANTS: ReadonlyArray<readonly [string, string, string | null]> = [
  ['alice', 'admin', null],
  ['bob', 'operator', null],
  ['carol', 'viewer', null],
  ['dave', 'own-jobs', null],
  ['erin', 'viewer', 'acme'],
  ['demo-worker', 'worker', null],
];

let server: RunningServer | undefined;
let serverStarting: Promise<RunningServer> | undefined;
let fleet: WorkerFleet | undefined;
let feeder: Feeder | undefined;
let status: StatusLine | undefined;
let stopping: Promise<void> | undefined;

function demoConfig(): Config {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [name, value] of Object.entries(DEMO_SETTINGS)) if ((env[name] ?? '').trim() === '') env[name] = value;
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`demo: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function grantDemoRoles(running: RunningServer): Promise<void> {
  for (const [user, role, scope] of DEMO_GRANTS) {
    await running.services.pool.query(
      `INSERT INTO grants (user_id, role_name, scope, granted_by) VALUES ($1, $2, $3, 'demo')
       ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING`,
      [user, role, scope],
    );
  }
}

function banner(config: Config, url: string, tokens: { alice: string; bob: string; carol: string }): void {
  const database = config.databaseUrl === undefined ? `embedded Postgres under ${config.dataDir}/` : 'DATABASE_URL';
  const settings = Object.keys(DEMO_SETTINGS)
    .map(
      (name) =>
        `${name}=${name === 'HEARTBEAT_TIMEOUT_MS' ? config.heartbeatTimeoutMs : name === 'CANCEL_GRACE_MS' ? config.cancelGraceMs : config.progressFlushMs}`,
    )
    .join(' ');
  const query =
    '{ jobs(filter: {tab: ACTIVE}, first: 10) { nodes { name type status step progress { phase percent indeterminate ratePerMinute } taskCounts { completed processing waiting } } } }';
  const lines = [
    '',
    paint('bold', 'Jobwatch demo: a living job monitor'),
    '',
    `  GraphQL   ${paint('cyan', url)}  (open it in a browser for Apollo Sandbox; put a token in the Authorization header)`,
    `  Database  ${database}`,
    `  Settings  ${settings}`,
    '',
    `  Users     alice admin · bob operator (approves deployments, resolves traps) · carol viewer · dave own-jobs · erin viewer of acme`,
    `  Tokens    (HS256, valid ${DEMO_TOKEN_TTL}; more with: npm run token -- dave)`,
    '',
    `export ALICE='${tokens.alice}'`,
    `export BOB='${tokens.bob}'`,
    `export CAROL='${tokens.carol}'`,
    '',
    '  Try:',
    `curl -s ${url} -H "authorization: Bearer $ALICE" -H 'content-type: application/json' \\`,
    `  -d '${JSON.stringify({ query })}'`,
    '',
    paint('dim', '  Workers and people act below; a status line every 10 s. Ctrl-C stops everything.'),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const config = demoConfig();
  if (config.jwksUrl !== undefined && config.jwtSecret === undefined) {
    process.stderr.write('demo: JWKS_URL is set, but the demo signs its own HS256 tokens: unset JWKS_URL (or set JWT_SECRET too)\n');
    process.exit(2);
  }
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'warn');
  say(
    'demo',
    `starting Jobwatch on port ${config.port} with ${config.databaseUrl === undefined ? `the embedded Postgres under ${config.dataDir}/ (first start takes a few seconds)` : 'DATABASE_URL'}`,
  );
  try {
    serverStarting = startServer(config, { log });
    server = await serverStarting;
    keepOnlyOurSignalHandlers();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      process.stderr.write(`demo: port ${config.port} is in use; try PORT=${config.port + 100} npm run demo\n`);
      process.exit(1);
    }
    throw error;
  }
  if (stopping !== undefined) return;

  await grantDemoRoles(server);
  const sign = (user: string, name: string) => signToken(config, user, name);
  const [alice, bob, carol, dave, worker] = await Promise.all([
    sign('alice', 'Alice Admin'),
    sign('bob', 'Bob Operator'),
    sign('carol', 'Carol Viewer'),
    sign('dave', 'Dave Owner'),
    sign('demo-worker', 'Demo worker'),
  ]);
  banner(config, server.url, { alice, bob, carol });

  const since = new Date(Date.now() - 1_000);
  const users = {
    alice: new DemoUser('alice', server.url, alice),
    bob: new DemoUser('bob', server.url, bob),
    dave: new DemoUser('dave', server.url, dave),
  };
  fleet = new WorkerFleet(server.url, worker);
  fleet.start();
  feeder = new Feeder(users, since);
  status = new StatusLine(users.alice, since, fleet);
  await feeder.start();
  if (stopping !== undefined) return;
  status.start();
}

/**
 * A single Ctrl-C can reach this process more than once (the terminal signals the whole process
 * group, and a wrapper may forward it again). Repeats within a few seconds are taken as that
 * echo; a later one means "stop now".
 */
const SIGNAL_ECHO_MS = 3_000;
let firstSignalAt = 0;

function shutdown(signal: NodeJS.Signals): void {
  if (stopping !== undefined) {
    if (Date.now() - firstSignalAt < SIGNAL_ECHO_MS) return;
    say('demo', `${signal} again: stopping now`, 'red');
    process.exit(130);
  }
  firstSignalAt = Date.now();
  say(
    'demo',
    `${signal}: stopping the feeder, then the workers (their running jobs end FAILED "job aborted: worker-stopping"), then the server`,
    'yellow',
  );
  stopping = (async () => {
    await feeder?.stop();
    await status?.stop();
    await fleet?.stop();
    // A signal during startup: let the server (and the embedded Postgres) finish starting, then close it.
    const running = server ?? (await serverStarting?.catch(() => undefined));
    await running?.close();
  })().then(
    () => {
      say('demo', 'stopped');
      process.exit(0);
    },
    (error: unknown) => {
      say('demo', `shutdown failed: ${errorText(error)}`, 'red');
      process.exit(1);
    },
  );
}

const onSigint = () => shutdown('SIGINT');
const onSigterm = () => shutdown('SIGTERM');
process.on('SIGINT', onSigint);
process.on('SIGTERM', onSigterm);

/**
 * Apollo Server installs its own SIGINT/SIGTERM handlers (stopOnTerminationSignals defaults to
 * on outside NODE_ENV=test): on a signal it drains and closes the HTTP server at once, then
 * re-sends the signal. The demo must keep the API up until its workers have reported their
 * last words, so it removes them and closes the server itself, last.
 */
function keepOnlyOurSignalHandlers(): void {
  for (const [signal, ours] of [
    ['SIGINT', onSigint],
    ['SIGTERM', onSigterm],
  ] as const) {
    for (const listener of process.listeners(signal)) if (listener !== ours) process.removeListener(signal, listener);
  }
}

main().catch(async (error: unknown) => {
  // Once a signal is stopping the demo, a step of the start that the stop cut short (a request to
  // the closing server) is not a failure: the stop ends the process, with its own exit code.
  if (stopping !== undefined) return;
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await fleet?.stop().catch(() => undefined);
  await server?.close().catch(() => undefined);
  process.exit(1);
});
