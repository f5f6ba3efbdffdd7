/**
 * npm run bench:list -- [--jobs N] [--duration S] [--connections C] [--warmup S]
 *
 * Measures the job list (GraphQL `jobs`) on a million realistic jobs against its floor: a bare
 * HTTP server running exactly the same SQL on a pool of the same size (bench/floor-server.ts).
 * Prints figures and PASS/MISS against the targets; it never fails on timing, only when an
 * answer is wrong (errors, a short page, or a page that differs from the floor's).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import type { OpenDatabase } from '../src/db/database';
import { encodeCursor } from '../src/jobs/cursor';
import { JOB_COLUMNS, type JobRow } from '../src/jobs/job.row';
import { createLogger } from '../src/logger';
import { findFreePort } from '../src/util/free-port';
import { BENCH_DATABASE, ensureSeeded, grantBenchUsers, openBenchDatabase } from './lib/bench-db';
import { captureListSql, loadAbility } from './lib/list-sql';
import { type LoadResult, runLoad } from './lib/load';
import { type Child, startChild, stopAll, waitForHttp } from './lib/processes';
import { ADMIN, buildScenarios, graphqlBody, type Scenario, type ScenarioId, VIEWER, VIEWER_SCOPE } from './lib/scenarios';
import { formatTable } from './lib/table';

const DEEP_OFFSET = 300_000;
const POOL_SIZE = 10; // the API's pool (createDataSource's default)

const print = (line = '') => process.stdout.write(`${line}\n`);

interface Options {
  readonly jobs: number;
  readonly duration: number;
  readonly connections: number;
  readonly warmup: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '1000000' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
    },
  });
  const positive = (name: string, raw: string | undefined, min: number) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
    return value;
  };
  return {
    jobs: positive('jobs', values.jobs, 1_000),
    duration: positive('duration', values.duration, 1),
    connections: positive('connections', values.connections, 1),
    warmup: positive('warmup', values.warmup, 0),
  };
}

async function token(secret: string, sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('4h')
    .sign(new TextEncoder().encode(secret));
}

/** The inputs scenarios need from the data: the deep cursor, a frequent owner, a 30-day window. */
async function scenarioInputs(database: OpenDatabase, jobs: number) {
  const deepOffset = Math.min(DEEP_OFFSET, Math.max(0, jobs - 1_000));
  const deep = await database.pool.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
    [deepOffset - 1],
  );
  const row = deep.rows[0];
  if (row === undefined) throw new Error(`no row at offset ${deepOffset - 1}`);
  const owner = await database.pool.query<{ owner_id: string; jobs: string; newest: Date }>(
    `SELECT owner_id, count(*) AS jobs, max(created_at) AS newest FROM jobs GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1`,
  );
  const frequent = owner.rows[0];
  if (frequent === undefined) throw new Error('no jobs');
  const day = 86_400_000;
  const before = new Date(frequent.newest.getTime() - 15 * day);
  return {
    inputs: {
      deepCursor: encodeCursor(row, 'CREATED_AT', 'DESC'),
      deepOffset,
      frequentOwner: frequent.owner_id,
      createdAfter: new Date(before.getTime() - 30 * day).toISOString(),
      createdBefore: before.toISOString(),
    },
    frequentJobs: Number(frequent.jobs),
  };
}

interface Explained {
  readonly summary: string;
  readonly sql: string;
  readonly plan: string[];
}

/** EXPLAIN (ANALYZE, BUFFERS) of the scenario's statement, as the API would send it. */
async function explain(database: OpenDatabase, scenario: Scenario): Promise<Explained> {
  const statement = await captureListSql(scenario, await loadAbility(database.pool, scenario.user));
  const result = await database.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
  const plan = result.rows.map((r) => r['QUERY PLAN']);
  const node = (line: string) => line.replace(/^\s*(->\s*)?/, '').replace(/\s+\(cost=.*$/, '');
  const top = plan[0] === undefined ? '?' : node(plan[0]);
  const scans = plan.filter((line) => /Scan/.test(line)).map(node);
  const execution = plan.find((line) => line.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '?';
  const buffers = plan.find((line) => /Buffers:/.test(line))?.trim().replace('Buffers: ', '') ?? '';
  const params = statement.values.map((value, i) => `$${i + 1}=${JSON.stringify(value instanceof Date ? value.toISOString() : value)}`);
  const sql = statement.text
    .replace(/SELECT [\s\S]*? FROM jobs/, 'SELECT <JOB_COLUMNS> FROM jobs')
    .replace(/\s+/g, ' ')
    .trim();
  return {
    summary: `${top} <- ${scans.join(' <- ') || '(no scan)'}; ${execution}; buffers ${buffers}`,
    sql: `${sql}  [${params.join(', ')}]`,
    plan,
  };
}

interface Targets {
  readonly apiUrl: string;
  readonly floorUrl: string;
  readonly tokens: Readonly<Record<string, string>>;
}

function apiRequest(targets: Targets, scenario: Scenario) {
  return {
    url: targets.apiUrl,
    method: 'POST' as const,
    headers: { authorization: `Bearer ${targets.tokens[scenario.user] as string}`, 'content-type': 'application/json' },
    body: graphqlBody(scenario),
  };
}

function floorRequest(targets: Targets, scenario: Scenario) {
  return { url: `${targets.floorUrl}/scenario/${scenario.id}`, method: 'GET' as const };
}

/** One request to each target: the API must answer without errors, a full page, the floor's page. */
async function checkAnswers(targets: Targets, scenario: Scenario): Promise<void> {
  const api = apiRequest(targets, scenario);
  const response = await fetch(api.url, { method: api.method, headers: api.headers, body: api.body });
  const text = await response.text();
  let answer: { data?: { jobs?: { nodes?: Array<{ id: string }> } }; errors?: unknown[] };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new Error(`scenario ${scenario.id}: the API answered ${response.status} with non-JSON: ${text.slice(0, 500)}`);
  }
  if (response.status !== 200 || answer.errors !== undefined) {
    throw new Error(`scenario ${scenario.id}: the API answered ${response.status} with errors: ${JSON.stringify(answer.errors ?? text).slice(0, 1000)}`);
  }
  const nodes = answer.data?.jobs?.nodes ?? [];
  if (nodes.length !== scenario.expectedNodes) {
    throw new Error(`scenario ${scenario.id}: the API answered ${nodes.length} nodes, expected ${scenario.expectedNodes}`);
  }
  const floor = floorRequest(targets, scenario);
  const floorResponse = await fetch(floor.url);
  if (floorResponse.status !== 200) throw new Error(`scenario ${scenario.id}: the floor answered ${floorResponse.status}`);
  const rows = (await floorResponse.json()) as Array<{ id: string }>;
  const apiIds = nodes.map((node) => node.id).join(',');
  if (rows.map((row) => row.id).join(',') !== apiIds) {
    throw new Error(`scenario ${scenario.id}: the floor's page (${rows.length} rows) differs from the API's`);
  }
}

interface Measured {
  readonly scenario: Scenario;
  readonly api: LoadResult;
  readonly floor: LoadResult;
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);

function report(measured: readonly Measured[], explained: ReadonlyMap<ScenarioId, Explained>, options: Options): void {
  print();
  print(`Results (${options.connections} connections, ${options.duration} s per run, each after a ${options.warmup} s warm-up of the same request)`);
  print();
  const rows: string[][] = [];
  for (const { scenario, api, floor } of measured) {
    const ratio = floor.requestsPerSecond > 0 ? api.requestsPerSecond / floor.requestsPerSecond : 0;
    const cells = (target: string, result: LoadResult, title: string, ratioText: string) => [
      title,
      target,
      fixed(result.requestsPerSecond),
      fixed(result.p50, 2),
      fixed(result.p99, 2),
      String(result.requests),
      String(result.non2xx),
      String(result.errors + result.timeouts),
      ratioText,
    ];
    rows.push(cells('API', api, `(${scenario.id}) ${scenario.title}`, `${fixed(ratio, 2)}x`));
    rows.push(cells('floor', floor, '', ''));
  }
  print(formatTable(['scenario', 'target', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non2xx', 'errors', 'API/floor'], rows));

  const get = (id: ScenarioId) => measured.find((m) => m.scenario.id === id);
  const a = get('a');
  const c = get('c');
  const e = get('e');
  print();
  print('Targets');
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  if (a !== undefined) {
    const ratio = a.api.requestsPerSecond / a.floor.requestsPerSecond;
    print(
      `  ${verdict(ratio >= 0.5)}  first page (a) >= 0.5x floor req/s: API ${fixed(a.api.requestsPerSecond)} / floor ` +
        `${fixed(a.floor.requestsPerSecond)} = ${fixed(ratio, 2)}x`,
    );
  }
  if (a !== undefined && c !== undefined) {
    const limit = 1.5 * a.api.p99;
    print(
      `  ${verdict(c.api.p99 <= limit)}  deep page (c) p99 <= 1.5x first page (a) p99, API: ${fixed(c.api.p99, 2)} ms ` +
        `vs 1.5 x ${fixed(a.api.p99, 2)} = ${fixed(limit, 2)} ms`,
    );
  }
  if (a !== undefined && e !== undefined) {
    const change = (e.api.requestsPerSecond / a.api.requestsPerSecond - 1) * 100;
    print(
      `  ${verdict(Math.abs(change) <= 10)}  permission-filtered (e) req/s within 10% of admin (a), API: ` +
        `${fixed(e.api.requestsPerSecond)} vs ${fixed(a.api.requestsPerSecond)} (${change >= 0 ? '+' : ''}${fixed(change)}%)`,
    );
  }
  const failures = measured.flatMap(({ scenario, api, floor }) =>
    [
      ['API', api],
      ['floor', floor],
    ].flatMap(([target, result]) => {
      const r = result as LoadResult;
      return r.non2xx + r.errors + r.timeouts > 0
        ? [`(${scenario.id}) ${target as string}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`]
        : [];
    }),
  );
  print(failures.length === 0 ? '  every response of every run was 2xx' : `  NOT every response was 2xx:\n    ${failures.join('\n    ')}`);

  print();
  print('Plans (EXPLAIN (ANALYZE, BUFFERS) of the SQL the API sends, run after the load on a warm cache)');
  for (const { scenario } of measured) {
    const plan = explained.get(scenario.id);
    if (plan === undefined) continue;
    print();
    print(`(${scenario.id}) ${scenario.title}`);
    print(`  summary: ${plan.summary}`);
    print(`  sql: ${plan.sql}`);
    for (const line of plan.plan) print(`    ${line}`);
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'warn');
  let database: OpenDatabase | undefined;
  let interrupted = false;
  const cleanup = async () => {
    await stopAll();
    const open = database;
    database = undefined;
    await open?.close().catch(() => undefined);
  };
  const onSignal = (signal: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the API, the floor and the database\n`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    print(`bench:list  node ${process.version}, ${availableParallelism()} CPUs, ${options.connections} connections, ${options.duration} s per run`);
    database = await openBenchDatabase(log);
    print(`database: ${database.embedded ? 'embedded Postgres (.data/bench)' : `${BENCH_DATABASE} on the DATABASE_URL server`} (migrations applied)`);
    await ensureSeeded(database, options.jobs, print);
    await grantBenchUsers(database, [
      [ADMIN, 'admin', null],
      [VIEWER, 'viewer', VIEWER_SCOPE],
    ]);
    const { inputs, frequentJobs } = await scenarioInputs(database, options.jobs);
    print(`frequent owner: ${inputs.frequentOwner} (${frequentJobs.toLocaleString('en-US')} jobs); deep page after row ${inputs.deepOffset.toLocaleString('en-US')}`);
    const scenarios = buildScenarios(inputs);

    const jwtSecret = randomBytes(32).toString('hex');
    const apiPort = await findFreePort();
    const { JWKS_URL: _jwks, BOOTSTRAP_ADMINS: _admins, ...inherited } = process.env;
    const api: Child = startChild('api', [path.resolve(__dirname, '../src/main.js')], {
      ...inherited,
      DATABASE_URL: database.url,
      PORT: String(apiPort),
      JWT_SECRET: jwtSecret,
      SECRETS_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // The seeded history spans 90 days and no worker heartbeats: keep the daemon (retention,
      // lost heartbeats, cancel grace) from rewriting the data set, and from ticking at all
      // while it is measured (its first tick comes after an hour).
      RETENTION_DAYS: '36500',
      HEARTBEAT_TIMEOUT_MS: '86400000',
      CANCEL_GRACE_MS: '86400000',
      DAEMON_INTERVAL_MS: '3600000',
    });
    await waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, api);
    const floorPort = await findFreePort();
    const floor = startChild('floor', [path.resolve(__dirname, 'floor-server.js')], {
      ...inherited,
      DATABASE_URL: database.url,
      PORT: String(floorPort),
      POOL_SIZE: String(POOL_SIZE),
      BENCH_SCENARIOS: JSON.stringify(scenarios),
    });
    await waitForHttp(`http://127.0.0.1:${floorPort}/healthz`, floor);
    print(`API pid ${api.process.pid} on :${apiPort}, floor pid ${floor.process.pid} on :${floorPort}`);

    const targets: Targets = {
      apiUrl: `http://127.0.0.1:${apiPort}/graphql`,
      floorUrl: `http://127.0.0.1:${floorPort}`,
      tokens: { [ADMIN]: await token(jwtSecret, ADMIN), [VIEWER]: await token(jwtSecret, VIEWER) },
    };

    // A fresh process runs its first requests unoptimised: warm both targets once before the
    // first scenario, so that (a) is not measured against a cold JIT while (b)..(e) are not.
    const first = scenarios[0];
    if (first !== undefined && options.warmup > 0) {
      const seconds = Math.max(5, options.warmup);
      await runLoad({ ...apiRequest(targets, first), connections: options.connections, duration: seconds });
      await runLoad({ ...floorRequest(targets, first), connections: options.connections, duration: seconds });
      print(`warmed both targets for ${seconds} s each`);
    }

    const measured: Measured[] = [];
    for (const scenario of scenarios) {
      await checkAnswers(targets, scenario);
      const load = { connections: options.connections };
      if (options.warmup > 0) {
        await runLoad({ ...apiRequest(targets, scenario), ...load, duration: options.warmup });
        await runLoad({ ...floorRequest(targets, scenario), ...load, duration: options.warmup });
      }
      const apiResult = await runLoad({ ...apiRequest(targets, scenario), ...load, duration: options.duration });
      const floorResult = await runLoad({ ...floorRequest(targets, scenario), ...load, duration: options.duration });
      measured.push({ scenario, api: apiResult, floor: floorResult });
      print(
        `(${scenario.id}) ${scenario.title}: API ${fixed(apiResult.requestsPerSecond)} req/s, ` +
          `floor ${fixed(floorResult.requestsPerSecond)} req/s`,
      );
    }
    // Plans last, on a warm cache: the state the measurements ran in.
    const explained = new Map<ScenarioId, Explained>();
    for (const scenario of scenarios) explained.set(scenario.id, await explain(database, scenario));
    report(measured, explained, options);
  } finally {
    if (!interrupted) await cleanup();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:list failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  stopAll().finally(() => process.exit(1));
});
