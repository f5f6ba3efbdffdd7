/**
 * npm run bench:list -- [--jobs N] [--duration S] [--connections C] [--warmup S] [--repetitions R]
 *                       [--only a,c,f] [--cpu-prof]
 *
 * The job list and job page (GraphQL) on a million realistic jobs, each scenario against its
 * narrow floor (bench/list/floor-server.ts: node:http + pg running the same SQL, only the columns the
 * page asks for), interleaved: API, floor, API, floor... Prints req/s, p50, p99, the server's and
 * its Postgres backends' CPU per request, the ratios, and PASS/MISS against the targets. It never
 * fails on timing, only when an answer is wrong (errors, a short page, or a page that differs
 * from the floor's). The seeded jobs are kept in the bench database and reused by later runs.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { OpenDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { findFreePort } from '../src/util/free-port';
import { BENCH_DATABASE, ensureSeeded, grantBenchUsers, openBenchDatabase } from './support/bench-db';
import { loadAbility } from './list/list-sql';
import { type Measured, printReport, type Run } from './list/list-report';
import { InspectorProfiler } from './list/inspector-profile';
import { runLoad } from './support/load';
import { API_NODE_FLAGS, apiEnv, inheritedEnv, signToken, startServer } from './support/api-process';
import { onInterrupt } from './support/interrupt';
import { benchOptions, integerOption, UsageError } from './support/options';
import { failure, loadAverage, print } from './support/output';
import { type Child, stopAll } from './support/processes';
import { RunMeter, withApplicationName } from './list/run-meter';
import { buildScenarios, prepareInputs } from './list/scenario-sets';
import { BENCH_GRANTS, type BenchScenario, type FloorContext, graphqlBody } from './list/scenarios';
import { summariseProfile } from './support/profile-summary';

const POOL_SIZE = 10; // the API's pool (createDataSource's default)
const API_APP = 'jw-bench-api';
const FLOOR_APP = 'jw-bench-floor';
const PROFILE_DIR = path.resolve('.data/bench-profiles');

function parseOptions() {
  const values = benchOptions({
    jobs: { type: 'string', default: '1000000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    repetitions: { type: 'string', default: '2' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
  });
  return {
    jobs: integerOption('jobs', values.jobs, 1_000),
    duration: integerOption('duration', values.duration, 1),
    connections: integerOption('connections', values.connections, 1),
    warmup: integerOption('warmup', values.warmup, 0),
    repetitions: integerOption('repetitions', values.repetitions, 1),
    only: values.only === undefined ? undefined : new Set(values.only.split(',').map((id) => id.trim())),
    cpuProfile: values['cpu-prof'] === true,
  };
}
export type Options = ReturnType<typeof parseOptions>;

interface Targets {
  readonly api: Child;
  /** With --cpu-prof: the API's inspector, to profile the measured runs only. */
  readonly profiler: InspectorProfiler | undefined;
  readonly floor: Child;
  readonly apiUrl: string;
  readonly floorUrl: string;
  readonly tokens: ReadonlyMap<string, string>;
}

const apiRequest = (targets: Targets, scenario: BenchScenario) => ({
  url: targets.apiUrl,
  method: 'POST' as const,
  headers: { authorization: `Bearer ${targets.tokens.get(scenario.user) as string}`, 'content-type': 'application/json' },
  body: graphqlBody(scenario),
});
const floorRequest = (targets: Targets, scenario: BenchScenario) => ({
  url: `${targets.floorUrl}/scenario/${scenario.id}`,
  method: 'GET' as const,
});

/** One request to each target: the API must answer without errors, and what the floor answers. */
async function checkAnswers(targets: Targets, scenario: BenchScenario): Promise<void> {
  const api = apiRequest(targets, scenario);
  const response = await fetch(api.url, { method: api.method, headers: api.headers, body: api.body });
  const text = await response.text();
  let answer: { data?: Record<string, unknown>; errors?: unknown[] };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new Error(`scenario ${scenario.id}: the API answered ${response.status} with non-JSON: ${text.slice(0, 500)}`);
  }
  if (response.status !== 200 || answer.errors !== undefined || answer.data === undefined) {
    throw new Error(
      `scenario ${scenario.id}: the API answered ${response.status} with errors: ${JSON.stringify(answer.errors ?? text).slice(0, 1000)}`,
    );
  }
  const floor = await fetch(floorRequest(targets, scenario).url);
  if (floor.status !== 200) throw new Error(`scenario ${scenario.id}: the floor answered ${floor.status}`);
  const difference = scenario.check(answer.data, await floor.json());
  if (difference !== undefined) throw new Error(`scenario ${scenario.id}: the API's answer differs from the floor's: ${difference}`);
}

async function explain(database: OpenDatabase, context: FloorContext, scenario: BenchScenario): Promise<string[]> {
  const lines: string[] = [];
  for (const statement of scenario.explain?.(context) ?? []) {
    const result = await database.pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
      statement.values as unknown[],
    );
    lines.push(`sql: ${statement.text.replace(/\s+/g, ' ').trim()}`, ...result.rows.map((row) => `  ${row['QUERY PLAN']}`));
  }
  return lines;
}

async function startTargets(database: OpenDatabase, inputs: Record<string, unknown>, options: Options): Promise<Targets> {
  const jwtSecret = randomBytes(32).toString('hex');
  const inherited = inheritedEnv();
  if (options.cpuProfile) mkdirSync(PROFILE_DIR, { recursive: true });
  const inspectPort = options.cpuProfile ? await findFreePort() : undefined;
  const inspect = inspectPort === undefined ? [] : [`--inspect=127.0.0.1:${inspectPort}`];
  // Both targets sum their collector's pauses, for the report's "gc ms/req".
  const gcMeter = ['--require', path.resolve(__dirname, 'support/gc-meter.js')];
  const { child: api, port: apiPort } = await startServer(
    'api',
    [...API_NODE_FLAGS, ...gcMeter, ...inspect, path.resolve(__dirname, '../src/main.js')],
    {
      ...inherited,
      ...apiEnv(withApplicationName(database.url, API_APP), jwtSecret),
      // The seeded history spans days and no worker heartbeats: keep the daemon (retention, lost
      // heartbeats, cancel grace) from rewriting the data set, and from ticking while it is measured.
      RETENTION_DAYS: '36500',
      HEARTBEAT_TIMEOUT_MS: '86400000',
      CANCEL_GRACE_MS: '86400000',
      DAEMON_INTERVAL_MS: '3600000',
    },
  );
  const { child: floor, port: floorPort } = await startServer(
    'floor',
    [...gcMeter, path.resolve(__dirname, 'list/floor-server.js')],
    {
      ...inherited,
      DATABASE_URL: withApplicationName(database.url, FLOOR_APP),
      POOL_SIZE: String(POOL_SIZE),
      BENCH_INPUTS: JSON.stringify(inputs),
    },
    '/healthz',
  );
  print(`API pid ${api.process.pid} on :${apiPort}, floor pid ${floor.process.pid} on :${floorPort}`);
  const tokens = new Map<string, string>();
  for (const [user] of BENCH_GRANTS) tokens.set(user, await signToken(jwtSecret, user, '4h'));
  const profiler = inspectPort === undefined ? undefined : await InspectorProfiler.connect(inspectPort);
  return { api, profiler, floor, apiUrl: `http://127.0.0.1:${apiPort}/graphql`, floorUrl: `http://127.0.0.1:${floorPort}`, tokens };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'warn');
  let database: OpenDatabase | undefined;
  const cleanup = async () => {
    await stopAll();
    const open = database;
    database = undefined;
    await open?.close().catch(() => undefined);
  };
  const interrupt = onInterrupt('the API, the floor and the database', cleanup);

  try {
    print(`bench:list  node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAverage()}`);
    database = await openBenchDatabase(log);
    print(
      `database: ${database.embedded ? 'embedded Postgres (.data/bench)' : `${BENCH_DATABASE} on the DATABASE_URL server`} (migrations applied)`,
    );
    await ensureSeeded(database, options.jobs, print);
    await grantBenchUsers(database, BENCH_GRANTS);
    const inputs = await prepareInputs(database.pool, print);
    const scenarios = buildScenarios(inputs).filter((scenario) => options.only?.has(scenario.id) ?? true);
    if (scenarios.length === 0) throw new UsageError(`--only ${[...(options.only ?? [])].join(',')} names no scenario`);

    // The seed and the setup above wrote changes that nobody was listening to: a new API would relay them
    // (a million ids after a fresh seed) during the measured runs.
    const dropped = await database.pool.query('DELETE FROM change_outbox');
    if ((dropped.rowCount ?? 0) > 0) print(`change outbox: ${dropped.rowCount} batches of setup changes dropped before the API starts`);
    const targets = await startTargets(database, inputs, options);
    const abilities = new Map(
      await Promise.all(BENCH_GRANTS.map(async ([user]) => [user, await loadAbility(database!.pool, user)] as const)),
    );
    const context: FloorContext = { pool: database.pool, ability: (user) => abilities.get(user)! };
    for (const scenario of scenarios) await checkAnswers(targets, scenario);
    print(`every scenario's first answer matches the floor's (${scenarios.map((s) => s.id).join(', ')})`);

    // A fresh process runs its first requests unoptimised: warm both targets on every scenario first.
    for (const scenario of scenarios) {
      const seconds = Math.max(1, options.warmup);
      await runLoad({ ...apiRequest(targets, scenario), connections: options.connections, duration: seconds });
      await runLoad({ ...floorRequest(targets, scenario), connections: options.connections, duration: seconds });
    }
    print(
      `warmed both targets on every scenario; ${options.repetitions} repetitions of ${options.duration} s per target and scenario, ${options.connections} connections`,
    );

    const meter = new RunMeter(database.pool, new URL(database.url).pathname.slice(1));
    const measured: Measured[] = [];
    for (const scenario of scenarios) {
      const runs: Array<{ api: Run; floor: Run }> = [];
      await targets.profiler?.start();
      for (let repetition = 0; repetition < options.repetitions; repetition += 1) {
        const request = { connections: options.connections, duration: options.duration };
        const api = await meter.measure(targets.api, API_APP, () => runLoad({ ...apiRequest(targets, scenario), ...request }));
        const floor = await meter.measure(targets.floor, FLOOR_APP, () => runLoad({ ...floorRequest(targets, scenario), ...request }));
        runs.push({ api: { load: api.result, cpu: api.cpu }, floor: { load: floor.result, cpu: floor.cpu } });
        print(
          `(${scenario.id}) run ${repetition + 1}: API ${api.result.requestsPerSecond.toFixed(1)} req/s, floor ${floor.result.requestsPerSecond.toFixed(1)} req/s`,
        );
      }
      await targets.profiler?.stop(path.join(PROFILE_DIR, `api-${scenario.id}.cpuprofile`));
      measured.push({ scenario, runs });
    }
    targets.profiler?.close();
    const plans = new Map<string, string[]>();
    for (const scenario of scenarios) plans.set(scenario.id, await explain(database, context, scenario));
    await stopAll();
    printReport(print, measured, plans, options);
    print();
    print(`load average at the end: ${loadAverage()}`);
    if (options.cpuProfile) {
      for (const scenario of scenarios) {
        const file = path.join(PROFILE_DIR, `api-${scenario.id}.cpuprofile`);
        print();
        print(`(${scenario.id}) the API's CPU profile over its measured runs (${file}):`);
        for (const line of summariseProfile(file, 40)) print(`  ${line}`);
      }
    }
  } finally {
    if (!interrupt.interrupted) await cleanup();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(failure('bench:list', error));
  void stopAll().finally(() => process.exit(error instanceof UsageError ? 2 : 1));
});
