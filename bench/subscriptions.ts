/**
 * npm run bench:subscriptions -- [--sizes 1000,2000,5000] [--jobs 100] [--duration 20] [--warmup 5]
 *                                [--interval 200] [--batch 200] [--client-procs 2] [--profile]
 *                                [--servers api,floor] [--settle 2] [--heap-snapshots] [--api-main dist/src/main.js]
 *
 * N graphql-ws clients (one WebSocket each, spread over --client-procs processes) subscribed to
 * `jobProgress` of K running jobs (N/K per job) while a worker reports progress for all K jobs
 * every `interval` ms through the API (one reportProgress call per tick; the API flushes every
 * interval/4, so each tick is one write of each job, as the floor makes one message). For each N it
 * measures, over `duration` seconds after a `warmup`: the messages delivered per second to all
 * clients, the p50/p99 latency from the progress write (the job's progress.updatedAt, the
 * database's now() at the flush) to the client's receipt, the server's memory per subscriber,
 * and how many subscribers are still held at the end. Beside it, in the same run, the floor: a
 * bare graphql-ws server (bench/subscriptions/floor-server.ts) fanning out the same messages to
 * the same clients. Prints figures and PASS/MISS against the targets; it never fails on a figure.
 *
 * Each N gets a fresh server process (API, then floor), warmed up with up to 500 subscribers
 * before its baseline. Memory is read (VmRSS, median of samples, after a forced full GC) with no
 * message in flight: fresh; with N subscribed before any message flowed (idle); and with N
 * subscribed after the window, the messages stopped and drained (the judged figure).
 *
 * `--profile` runs the servers with --cpu-prof and prints where their CPU went;
 * `--heap-snapshots` writes heap snapshots of each server before and with N subscribed (idle)
 * and prints what grew per subscriber (slow, and it spoils the RSS figures: a diagnostic run);
 * `--api-main` runs another build of the API (a candidate change, built elsewhere) instead;
 * `--servers api` measures the API alone (no ratios then).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { OpenDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import {
  API_NODE_FLAGS,
  apiEnv,
  inheritedEnv,
  type RunningServer,
  signToken,
  startServer,
  UNTHROTTLED_WORKERS_ENV,
} from './support/api-process';
import { grantBenchUsers, insertPendingJobs, openBenchDatabase } from './support/bench-db';
import { claimJobs } from './support/graphql-client';
import { onInterrupt } from './support/interrupt';
import { print, runBench } from './support/output';
import { stopAll } from './support/processes';
import { postmasterPid } from './support/proc-stats';
import { summariseProfile } from './support/profile-summary';
import { ClientPool } from './subscriptions/client-pool';
import { NotifyCounter } from './subscriptions/notify-counter';
import { parseOptions } from './subscriptions/options';
import { ProgressWorker } from './subscriptions/progress-worker';
import { report } from './subscriptions/report';
import { type Run, runTarget, type Server, type Targets } from './subscriptions/run-target';
import { ServerProbe } from './subscriptions/server-probe';

const DATABASE = 'jw_bench_subscriptions';
/** Where the embedded Postgres keeps the bench database (bench/support/bench-db.ts). */
const EMBEDDED_PG_DIR = '.data/bench/pg';
const WORKER = 'bench-subs-worker';
const VIEWER = 'bench-subs-viewer';
const SCOPE = 'acme';
const JOB_SCOPE = 'acme/bench-subscriptions';
const JOB_TYPE = 'bench-subscriptions';

function shell(command: string): string {
  try {
    return execFileSync('sh', ['-c', command], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

/** A server with the probe loaded: its wire URL and its probe beside the process. */
function probed(server: RunningServer): Server {
  return { child: server.child, probe: new ServerProbe(server.child), url: `ws://127.0.0.1:${server.port}/graphql`, base: server.base };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'warn');
  let database: OpenDatabase | undefined;
  let clients: ClientPool | undefined;
  let notify: NotifyCounter | undefined;
  let worker: ProgressWorker | undefined;
  const cleanup = async () => {
    await worker?.stop().catch(() => undefined);
    await clients?.stop().catch(() => undefined);
    await stopAll();
    await notify?.stop();
    const open = database;
    database = undefined;
    await open?.close().catch(() => undefined);
  };
  const interrupt = onInterrupt('the clients, the API, the floor and the database', cleanup);

  const maxN = Math.max(...options.sizes);
  const openFiles = shell('ulimit -n');
  print(
    `bench:subscriptions  node ${process.version}, ${availableParallelism()} CPUs, sizes ${options.sizes.join(', ')}, ` +
      `${options.jobs} jobs, ${options.clientProcs} client processes, API ${path.relative(process.cwd(), options.apiMain)}, ulimit -n ${openFiles} (hard ${shell('ulimit -Hn')}), ` +
      `local ports ${shell('cat /proc/sys/net/ipv4/ip_local_port_range').replace(/\s+/g, '-')}`,
  );
  if (Number(openFiles) < maxN + 1_000) {
    print(
      `WARNING: ulimit -n ${openFiles} is below ${maxN + 1_000}: the API (one descriptor per socket) may run out; raise it (ulimit -n) first`,
    );
  }
  try {
    database = await openBenchDatabase(log, DATABASE, { fresh: true });
    const pool = database.pool;
    print(
      `database: ${database.embedded ? `embedded Postgres (${EMBEDDED_PG_DIR}), emptied` : `${DATABASE} on the DATABASE_URL server, recreated`}`,
    );
    await grantBenchUsers(database, [
      [WORKER, 'worker', null],
      [VIEWER, 'viewer', SCOPE],
    ]);
    await insertPendingJobs(pool, options.jobs, { name: 'Subscribed job', type: JOB_TYPE, scope: JOB_SCOPE });
    await pool.query('VACUUM (ANALYZE) jobs');

    const secret = randomBytes(32).toString('hex');
    const probePath = path.resolve(__dirname, 'subscriptions/probe.js');
    const inherited = inheritedEnv();
    const profileDir = path.resolve('.data/bench-profiles', `subscriptions-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    if (options.profile || options.heapSnapshots) mkdirSync(profileDir, { recursive: true });
    const cpuProfile = (name: string, n: number) =>
      options.profile && n > 0 ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-N${n}.cpuprofile`] : [];
    const snapshots = options.heapSnapshots ? { BENCH_PROBE_SNAPSHOTS: profileDir } : {};
    const apiSettings = {
      ...inherited,
      BENCH_PROBE: '1',
      ...snapshots,
      ...apiEnv(database.url, secret),
      // Each tick's report gets a flush of its own: with the flush on the same period as the
      // worker, two free-running timers drift against each other and a flush now and then
      // finds two reports (one write) and the next none, so the API would be sent fewer
      // messages than the floor makes. The subscribers' jobProgress throttle follows this
      // value too (one per PROGRESS_FLUSH_MS on average), so it never drops a tick either.
      PROGRESS_FLUSH_MS: String(Math.max(10, Math.floor(options.interval / 4))),
      ...UNTHROTTLED_WORKERS_ENV,
    };
    const startApi = async (n: number): Promise<Server> =>
      probed(
        await startServer(
          'api',
          [...API_NODE_FLAGS, '--expose-gc', '-r', probePath, ...cpuProfile('api', n), options.apiMain],
          apiSettings,
        ),
      );
    const workerAuth = `Bearer ${await signToken(secret, WORKER, '6h')}`;

    // Claim every job through the API, as a worker would (an instance of its own).
    const claimer = await startApi(0);
    const claims = await claimJobs(`${claimer.base}/graphql`, workerAuth, options.jobs, 'bench-subscriptions', JOB_TYPE);
    const leases = claims.map((claim) => claim.lease);
    const jobIds = claims.map((claim) => claim.jobId);
    await claimer.child.stop();
    if (leases.length < options.jobs) throw new Error(`claimed only ${leases.length} of ${options.jobs} jobs`);

    const floorMain = path.resolve(__dirname, 'subscriptions/floor-server.js');
    const floorSettings = {
      ...inherited,
      BENCH_PROBE: '1',
      ...snapshots,
      BENCH_JOB_IDS: jobIds.join(','),
      BENCH_INTERVAL_MS: String(options.interval),
    };
    const startFloor = async (n: number): Promise<Server> =>
      probed(await startServer('floor', ['--expose-gc', '-r', probePath, ...cpuProfile('floor', n), floorMain], floorSettings, '/healthz'));

    clients = new ClientPool(options.clientProcs);
    notify = new NotifyCounter();
    await notify.start(database.url);
    worker = new ProgressWorker(`${claimer.base}/graphql`, workerAuth, leases, options.interval);
    const postmaster = database.embedded ? postmasterPid(EMBEDDED_PG_DIR) : undefined;
    print(
      `claimed ${leases.length} jobs; client pids ${clients.pids.join(', ')}, postmaster ${postmaster ?? '(not local: its CPU is not measured)'}; ` +
        `each N gets a fresh API and a fresh floor process`,
    );

    const targets: Targets = {
      start: (target, n) => (target === 'API' ? startApi(n) : startFloor(n)),
      viewerAuthorization: `Bearer ${await signToken(secret, VIEWER, '6h')}`,
      jobIds,
      worker,
      notify,
      clients,
      postmaster,
    };

    const runs: Run[] = [];
    for (const n of options.sizes) {
      for (const server of options.servers) runs.push(await runTarget(server, n, options, targets));
    }
    print(
      `worker: ${worker.calls} reportProgress calls, ${worker.accepted.toLocaleString('en-US')} reports accepted, ${worker.failures} failed` +
        (worker.failures > 0 ? ` (last: ${worker.lastError})` : ''),
    );
    report(runs, options);

    if (options.profile) {
      // Each server wrote its profile when it stopped, at the end of its run.
      for (const run of runs) {
        const file = path.join(profileDir, `${run.target === 'API' ? 'api' : 'floor'}-N${run.n}.cpuprofile`);
        print();
        print(`N=${run.n} ${run.target} CPU profile: ${file} (the process's whole life: warm-up, connecting, window, memory readings)`);
        for (const line of summariseProfile(file, 20)) print(`  ${line}`);
      }
    }
  } finally {
    if (!interrupt.interrupted) await cleanup();
  }
}

runBench('bench:subscriptions', main);
