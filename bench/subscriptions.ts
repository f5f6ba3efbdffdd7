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
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { Client as PgClient } from 'pg';
import type { OpenDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { findFreePort } from '../src/util/free-port';
import { openBenchDatabase } from './lib/bench-db';
import { type Child, startChild, stopAll, waitForHttp } from './lib/processes';
import { formatTable } from './lib/table';
import { ClientPool, type OpenResult, type WindowResult } from './subscriptions/client-pool';
import { LatencyHistogram } from './subscriptions/protocol';
import type { ProbeReading } from './subscriptions/probe';
import { childPids, CpuMeter, machineTimes, median, postmasterPid, rssBytes } from './subscriptions/proc-stats';
import { summariseHeapGrowth } from './subscriptions/heap-summary';
import { summariseProfile } from './subscriptions/profile-summary';
import { ServerProbe } from './subscriptions/server-probe';

const DATABASE = 'jw_bench_subscriptions';
/** Where the embedded Postgres keeps the bench database (bench/lib/bench-db.ts). */
const EMBEDDED_PG_DIR = '.data/bench/pg';
const TARGETS = { held: 5_000, p99Ms: 250, p99AtN: 1_000, floorRatio: 0.8, kbPerSubscriber: 30 };
const WORKER = 'bench-subs-worker';
const VIEWER = 'bench-subs-viewer';
const SCOPE = 'acme';
const JOB_SCOPE = 'acme/bench-subscriptions';
const JOB_TYPE = 'bench-subscriptions';

const print = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Options {
  readonly sizes: readonly number[];
  readonly jobs: number;
  readonly duration: number;
  readonly warmup: number;
  readonly interval: number;
  readonly batch: number;
  readonly clientProcs: number;
  readonly profile: boolean;
  /** Which servers to measure (both by default: the API/floor ratios need both). */
  readonly servers: ReadonlyArray<'API' | 'floor'>;
  /** Seconds to wait, messages stopped, before reading the memory with N subscribed. */
  readonly settle: number;
  /** Heap snapshots of both servers before and with N subscribed, and what grew (slow; spoils the RSS figures). */
  readonly heapSnapshots: boolean;
  /** The API's entry point (a candidate build, say); dist/src/main.js by default. */
  readonly apiMain: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,2000,5000' },
      jobs: { type: 'string', default: '100' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      interval: { type: 'string', default: '200' },
      batch: { type: 'string', default: '200' },
      'client-procs': { type: 'string', default: '2' },
      profile: { type: 'boolean', default: false },
      'heap-snapshots': { type: 'boolean', default: false },
      servers: { type: 'string', default: 'api,floor' },
      settle: { type: 'string', default: '2' },
      'api-main': { type: 'string', default: path.resolve(__dirname, '../src/main.js') },
    },
  });
  const integer = (name: string, raw: string | undefined, min: number) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
    return value;
  };
  return {
    sizes: (values.sizes ?? '').split(',').map((size) => integer('sizes', size.trim(), 1)),
    jobs: integer('jobs', values.jobs, 1),
    duration: integer('duration', values.duration, 1),
    warmup: integer('warmup', values.warmup, 0),
    interval: integer('interval', values.interval, 10),
    batch: integer('batch', values.batch, 1),
    clientProcs: integer('client-procs', values['client-procs'], 1),
    profile: values.profile === true,
    heapSnapshots: values['heap-snapshots'] === true,
    servers: (values.servers ?? '').split(',').map((name) => {
      const server = name.trim().toLowerCase();
      if (server !== 'api' && server !== 'floor') throw new Error(`--servers takes api and/or floor, got "${name}"`);
      return server === 'api' ? ('API' as const) : ('floor' as const);
    }),
    settle: integer('settle', values.settle, 0),
    apiMain: path.resolve(values['api-main'] ?? path.resolve(__dirname, '../src/main.js')),
  };
}

function shell(command: string): string {
  try {
    return execFileSync('sh', ['-c', command], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

async function token(secret: string, sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('6h')
    .sign(new TextEncoder().encode(secret));
}

/** The worker: one reportProgress call for every job each tick, `done` growing by one per tick. */
class ProgressWorker {
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private tick = 0;
  calls = 0;
  accepted = 0;
  failures = 0;
  lastError = '';

  constructor(
    private url: string,
    private readonly authorization: string,
    private readonly leases: readonly string[],
    private readonly intervalMs: number,
  ) {}

  /** Reports to this API (a fresh instance) from the next start on. */
  use(url: string): void {
    this.url = url;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    let next = Date.now();
    while (this.running) {
      this.tick += 1;
      const reports = this.leases.map((lease) => ({ lease, done: this.tick, total: 1_000_000, unit: 'rows' }));
      try {
        const data = await graphql<{ reportProgress: number }>(this.url, this.authorization, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
          r: reports,
        });
        this.accepted += data.reportProgress;
      } catch (error) {
        this.failures += 1;
        this.lastError = error instanceof Error ? error.message : String(error);
      }
      this.calls += 1;
      next += this.intervalMs;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  }
}

async function graphql<T>(url: string, authorization: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors).slice(0, 500));
  return body.data as T;
}

/**
 * Listens like the API does: counts the job ids the database notifies (one per job written by a
 * progress flush) and, for each notification, how long after the write (the first job's
 * progress_updated_at) it arrived: the database's share of the latency.
 */
class NotifyCounter {
  private client: PgClient | undefined;
  private query: PgClient | undefined;
  private counting = false;
  ids = 0;
  notifications = 0;
  readonly delay = new LatencyHistogram();

  async start(url: string): Promise<void> {
    this.client = new PgClient({ connectionString: url });
    this.query = new PgClient({ connectionString: url });
    await this.client.connect();
    await this.query.connect();
    this.client.on('notification', (message) => {
      const received = Date.now();
      if (!this.counting || message.payload === undefined) return;
      const ids = message.payload.split(',').filter((id) => id !== '');
      this.notifications += 1;
      this.ids += ids.length;
      void this.query
        ?.query<{ at: Date | null }>('SELECT progress_updated_at AS at FROM jobs WHERE id = $1', [ids[0]])
        .then(({ rows }) => {
          const at = rows[0]?.at;
          if (at != null) this.delay.add(received - at.getTime());
        })
        .catch(() => undefined);
    });
    await this.client.query('LISTEN jobwatch_jobs');
  }

  begin(): void {
    this.ids = 0;
    this.notifications = 0;
    this.delay.reset();
    this.counting = true;
  }

  end(): { ids: number; notifications: number; p50: number; p99: number } {
    this.counting = false;
    return { ids: this.ids, notifications: this.notifications, p50: this.delay.percentile(0.5), p99: this.delay.percentile(0.99) };
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    await this.query?.end().catch(() => undefined);
    this.client = undefined;
    this.query = undefined;
  }
}

interface Memory {
  readonly rss: number;
  readonly probe: ProbeReading;
}

/** A stable reading: a full GC in the server, then the median of several RSS samples. */
async function steadyMemory(probe: ServerProbe): Promise<Memory> {
  const reading = await probe.read();
  await sleep(500);
  const samples: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    samples.push(rssBytes(probe.pid));
    await sleep(300);
  }
  return { rss: median(samples), probe: reading };
}

interface Run {
  readonly target: 'API' | 'floor';
  readonly n: number;
  readonly open: OpenResult;
  readonly held: number;
  readonly closedCodes: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  readonly window: WindowResult;
  /** Messages the writes during the window called for (API: from the notifications; floor: N per tick). */
  readonly expected: number;
  /** API: write (progress_updated_at) to notification received, ms. */
  readonly notifyDelay: { p50: number; p99: number } | undefined;
  /** A fresh server, warmed up, no subscriber. */
  readonly before: Memory;
  /** N subscribed, no message sent yet but the first (the current state). */
  readonly idle: Memory;
  /** N subscribed after the measured window, messages stopped and drained. */
  readonly after: Memory;
  /** The server's event-loop delay during the window. */
  readonly serverLoop: ProbeReading;
  /** With --heap-snapshots: what grew per subscriber, from the fresh server to N held idle. */
  readonly heapGrowth: readonly string[];
  readonly cpu: { server: number; postgres: number; clients: number; runner: number; machineBusy: number; machineTotal: number; seconds: number };
}

/** A server started for one run: the API or the floor. */
interface Server {
  readonly child: Child;
  readonly probe: ServerProbe;
  /** ws:// URL of /graphql. */
  readonly url: string;
  /** Its HTTP base URL. */
  readonly base: string;
}

interface Targets {
  /** Starts a fresh server (each N gets its own process, so memory readings do not carry over). */
  readonly start: (target: 'API' | 'floor', n: number) => Promise<Server>;
  readonly viewerAuthorization: string;
  readonly jobIds: readonly string[];
  readonly worker: ProgressWorker;
  readonly notify: NotifyCounter;
  readonly clients: ClientPool;
  readonly postmaster: number | undefined;
}

async function runTarget(target: 'API' | 'floor', n: number, options: Options, t: Targets): Promise<Run> {
  const label = `N=${n.toLocaleString('en-US')} ${target}`;
  const server = await t.start(target, n);
  const authorization = target === 'API' ? t.viewerAuthorization : null;
  // Messages on and off: the API's worker, the floor's ticks.
  const load = async (on: boolean) => {
    if (target === 'API') {
      if (on) t.worker.start();
      else await t.worker.stop();
    } else {
      await fetch(`${server.base}/${on ? 'resume' : 'pause'}`, { method: 'POST' });
    }
  };
  if (target === 'API') t.worker.use(`${server.base}/graphql`);

  // A warm-up of its own (JIT, lazily built caches), with messages flowing, then nothing.
  const warmN = Math.min(500, n);
  await load(true);
  const warmed = await t.clients.open({ url: server.url, authorization, jobIds: t.jobIds, count: warmN, batch: options.batch, timeoutMs: 60_000 });
  await sleep(Math.max(3, options.warmup) * 1000);
  await t.clients.closeAll();
  await load(false);
  if (warmed.failed > 0) print(`${label}: warm-up: ${warmed.failed} of ${warmN} failed to subscribe (${warmed.failures.join('; ')})`);
  await sleep(1_000);

  // Memory is read with no message in flight: before, with N held idle, with N after the load.
  const before = await steadyMemory(server.probe);
  const snapshotBefore = options.heapSnapshots ? await server.probe.snapshot() : undefined;
  const opened = await t.clients.open({ url: server.url, authorization, jobIds: t.jobIds, count: n, batch: options.batch, timeoutMs: 60_000 });
  print(
    `${label}: ${opened.subscribed.toLocaleString('en-US')} subscribed in ${opened.seconds.toFixed(1)} s (no messages flowing)` +
      (opened.failed > 0 ? `, ${opened.failed} failed (${opened.failures.join('; ')})` : ''),
  );
  await sleep(1_000);
  const idle = await steadyMemory(server.probe);
  let heapGrowth: string[] = [];
  if (snapshotBefore !== undefined) {
    const snapshotIdle = await server.probe.snapshot();
    heapGrowth = summariseHeapGrowth(snapshotBefore, snapshotIdle, n);
    rmSync(snapshotBefore, { force: true });
    rmSync(snapshotIdle, { force: true });
  }
  await load(true);
  await sleep(options.warmup * 1000);
  await server.probe.read(); // resets the server's event-loop delay histogram (after a GC)
  await sleep(1_000);

  const serverCpu = new CpuMeter(() => [server.probe.pid]);
  const postgresCpu = new CpuMeter(() => (t.postmaster === undefined ? [] : [t.postmaster, ...childPids(t.postmaster)]));
  const clientCpu = new CpuMeter(() => t.clients.pids);
  const runnerCpu = new CpuMeter(() => [process.pid]);
  const meters = [serverCpu, postgresCpu, clientCpu, runnerCpu];
  for (const meter of meters) meter.begin();
  const machineStart = machineTimes();
  const started = Date.now();
  t.notify.begin();
  await t.clients.windowStart();
  await sleep(options.duration * 1000);
  const window = await t.clients.windowStop();
  const notified = t.notify.end();
  const seconds = (Date.now() - started) / 1000;
  const machineEnd = machineTimes();
  const cpu = {
    server: serverCpu.used(),
    postgres: postgresCpu.used(),
    clients: clientCpu.used(),
    runner: runnerCpu.used(),
    machineBusy: machineEnd.busy - machineStart.busy,
    machineTotal: machineEnd.total - machineStart.total,
    seconds,
  };
  const serverLoop = await server.probe.read();
  const status = await t.clients.status();
  await load(false);
  await sleep(options.settle * 1000);
  const after = await steadyMemory(server.probe);
  await t.clients.closeAll();
  await server.child.stop();

  // Every job's subscribers get each write of it: N/K per job, K jobs written per flush.
  const expected =
    target === 'API' ? (notified.ids / t.jobIds.length) * n : (window.seconds * 1000 * n) / options.interval;
  const h = window.histogram;
  print(
    `${label}: ${Math.round(window.messagesPerSecond).toLocaleString('en-US')} msg/s ` +
      `(${((window.messages / Math.max(expected, 1)) * 100).toFixed(1)} % of the writes' fan-out), ` +
      `p50 ${h.percentile(0.5)} ms, p99 ${h.percentile(0.99)} ms, max ${h.max} ms; ` +
      `held ${status.held.toLocaleString('en-US')}/${n.toLocaleString('en-US')}; ` +
      `RSS ${mb(before.rss)} -> ${mb(idle.rss)} (idle) -> ${mb(after.rss)} MB (after load); CPU server ${pct(cpu.server, seconds)}, postgres ${pct(cpu.postgres, seconds)}, ` +
      `clients ${pct(cpu.clients, seconds)}, machine ${pct(cpu.machineBusy, seconds)} of ${pct(cpu.machineTotal, seconds)}`,
  );
  return {
    target,
    n,
    open: opened,
    held: status.held,
    closedCodes: status.closedCodes,
    errors: status.errors,
    window,
    expected,
    notifyDelay: target === 'API' ? { p50: notified.p50, p99: notified.p99 } : undefined,
    before,
    idle,
    after,
    serverLoop,
    heapGrowth,
    cpu,
  };
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const pct = (cpuSeconds: number, seconds: number) => `${Math.round((cpuSeconds / seconds) * 100)}%`;
const kbPer = (before: number, after: number, n: number) => (after - before) / 1024 / n;

function report(runs: readonly Run[], options: Options): void {
  const floorOf = (n: number) => runs.find((r) => r.target === 'floor' && r.n === n);
  const apiOf = (n: number) => runs.find((r) => r.target === 'API' && r.n === n);
  print();
  print(
    `Results: ${options.jobs} jobs written every ${options.interval} ms (N/${options.jobs} subscribers per job), ` +
      `${options.duration} s measured after a ${options.warmup} s warm-up; latency = receipt - progress.updatedAt`,
  );
  print(
    "KB/sub RSS: (RSS with N after the window - RSS before N) / N, both read with no message in flight; " +
      "idle: the same with N subscribed before any message flowed; heap: V8's used heap, after a full GC",
  );
  print();
  const rows = runs.map((run) => {
    const h = run.window.histogram;
    const floor = floorOf(run.n);
    const ratio = run.target === 'API' && floor !== undefined ? `${(run.window.messagesPerSecond / floor.window.messagesPerSecond).toFixed(2)}x` : '';
    return [
      run.n.toLocaleString('en-US'),
      run.target,
      run.held.toLocaleString('en-US'),
      Math.round(run.window.messagesPerSecond).toLocaleString('en-US'),
      Math.round(run.expected / run.window.seconds).toLocaleString('en-US'),
      String(h.percentile(0.5)),
      String(h.percentile(0.99)),
      String(h.max),
      kbPer(run.before.rss, run.after.rss, run.n).toFixed(1),
      kbPer(run.before.rss, run.idle.rss, run.n).toFixed(1),
      kbPer(run.before.probe.heapUsed, run.idle.probe.heapUsed, run.n).toFixed(1),
      ratio,
      run.notifyDelay === undefined ? '' : `${run.notifyDelay.p50}/${run.notifyDelay.p99}`,
    ];
  });
  print(
    formatTable(
      ['N', 'server', 'held', 'msg/s', 'writes x subs /s', 'p50 ms', 'p99 ms', 'max ms', 'KB/sub RSS', 'KB/sub RSS idle', 'KB/sub heap idle', 'API/floor msg/s', 'write->NOTIFY p50/p99 ms'],
      rows,
    ),
  );
  print();
  print('Where the CPU went during each window (% of one core; the machine has ' + `${availableParallelism()} CPUs)`);
  print();
  print(
    formatTable(
      ['N', 'server', 'server CPU', 'postgres CPU', 'clients CPU', 'runner CPU', 'machine busy', 'server loop p99/max ms', 'clients loop p99/max ms', 'connect s'],
      runs.map((run) => [
        run.n.toLocaleString('en-US'),
        run.target,
        pct(run.cpu.server, run.cpu.seconds),
        pct(run.cpu.postgres, run.cpu.seconds),
        pct(run.cpu.clients, run.cpu.seconds),
        pct(run.cpu.runner, run.cpu.seconds),
        `${pct(run.cpu.machineBusy, run.cpu.seconds)}/${pct(run.cpu.machineTotal, run.cpu.seconds)}`,
        `${run.serverLoop.loopDelayP99.toFixed(0)}/${run.serverLoop.loopDelayMax.toFixed(0)}`,
        `${run.window.loopDelayP99.toFixed(0)}/${run.window.loopDelayMax.toFixed(0)}`,
        run.open.seconds.toFixed(1),
      ]),
    ),
  );
  print();
  print('Server memory (no message in flight, after a full GC; RSS = median of 7 samples over 2 s). MB: RSS / heap used / heap total');
  print();
  const triple = (m: Memory) => `${mb(m.rss)} / ${mb(m.probe.heapUsed)} / ${mb(m.probe.heapTotal)}`;
  print(
    formatTable(
      ['N', 'server', 'fresh, warmed, no subscriber', 'N subscribed, idle', 'N subscribed, after the window'],
      runs.map((run) => [run.n.toLocaleString('en-US'), run.target, triple(run.before), triple(run.idle), triple(run.after)]),
    ),
  );
  print();
  print('V8 heap spaces with N subscribed after the window (MB used / MB physical)');
  for (const run of runs) {
    const spaces = Object.entries(run.after.probe.spaces)
      .filter(([, space]) => space.physical >= 0.5)
      .map(([name, space]) => `${name.replace(/_space$/, '')} ${space.used}/${space.physical}`);
    print(`  N=${run.n} ${run.target}: ${spaces.join(', ')}`);
  }
  const troubles = runs.filter((run) => run.open.failed > 0 || run.held < run.n || run.errors.length > 0 || run.window.undated > 0);
  if (troubles.length > 0) {
    print();
    for (const run of troubles) {
      print(
        `N=${run.n} ${run.target}: ${run.open.failed} failed to subscribe, ${run.n - run.held} not held at the end, ` +
          `${run.window.undated} messages without progress.updatedAt; close codes ${JSON.stringify(run.closedCodes)}; ` +
          `errors: ${run.errors.join(' | ') || 'none'}${run.open.failures.length > 0 ? `; first failures: ${run.open.failures.join(' | ')}` : ''}`,
      );
    }
  }

  for (const run of runs) {
    if (run.heapGrowth.length === 0) continue;
    print();
    print(`N=${run.n} ${run.target}: heap snapshots (the RSS figures of this run are spoiled by them)`);
    for (const line of run.heapGrowth) print(`  ${line}`);
  }

  print();
  print('Targets');
  const check = (ok: boolean, text: string) => print(`  ${ok ? 'PASS' : 'MISS'}  ${text}`);
  const biggest = apiOf(TARGETS.held);
  check(
    biggest !== undefined && biggest.held >= TARGETS.held,
    `${TARGETS.held.toLocaleString('en-US')} subscribers held by the API: ` +
      (biggest === undefined ? 'not measured (add it to --sizes)' : `${biggest.held.toLocaleString('en-US')} held at the end`),
  );
  const small = apiOf(TARGETS.p99AtN);
  const p99 = small?.window.histogram.percentile(0.99);
  check(
    p99 !== undefined && p99 <= TARGETS.p99Ms,
    `p99 <= ${TARGETS.p99Ms} ms at ${TARGETS.p99AtN.toLocaleString('en-US')} subscribers (API): ` +
      (p99 === undefined ? 'not measured (add it to --sizes)' : `${p99} ms`),
  );
  for (const n of options.sizes) {
    const api = apiOf(n);
    const floor = floorOf(n);
    if (api === undefined || floor === undefined) continue;
    const ratio = api.window.messagesPerSecond / floor.window.messagesPerSecond;
    check(
      ratio >= TARGETS.floorRatio,
      `>= ${TARGETS.floorRatio}x the floor's messages/s at N=${n.toLocaleString('en-US')}: ` +
        `API ${Math.round(api.window.messagesPerSecond).toLocaleString('en-US')} / floor ${Math.round(floor.window.messagesPerSecond).toLocaleString('en-US')} = ${ratio.toFixed(2)}x`,
    );
  }
  for (const n of options.sizes) {
    const api = apiOf(n);
    if (api === undefined) continue;
    const kb = kbPer(api.before.rss, api.after.rss, n);
    const floor = floorOf(n);
    check(
      kb <= TARGETS.kbPerSubscriber,
      `<= ${TARGETS.kbPerSubscriber} KB of server memory per subscriber at N=${n.toLocaleString('en-US')} (API, RSS after the window): ${kb.toFixed(1)} KB` +
        ` (held idle: ${kbPer(api.before.rss, api.idle.rss, n).toFixed(1)} KB RSS, ${kbPer(api.before.probe.heapUsed, api.idle.probe.heapUsed, n).toFixed(1)} KB heap` +
        (floor === undefined ? ')' : `; floor after the window: ${kbPer(floor.before.rss, floor.after.rss, n).toFixed(1)} KB RSS)`),
    );
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'warn');
  let database: OpenDatabase | undefined;
  let clients: ClientPool | undefined;
  let notify: NotifyCounter | undefined;
  let worker: ProgressWorker | undefined;
  let interrupted = false;
  const cleanup = async () => {
    await worker?.stop().catch(() => undefined);
    await clients?.stop().catch(() => undefined);
    await stopAll();
    await notify?.stop();
    const open = database;
    database = undefined;
    await open?.close().catch(() => undefined);
  };
  const onSignal = (signal: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the clients, the API, the floor and the database\n`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const maxN = Math.max(...options.sizes);
  const openFiles = shell('ulimit -n');
  print(
    `bench:subscriptions  node ${process.version}, ${availableParallelism()} CPUs, sizes ${options.sizes.join(', ')}, ` +
      `${options.jobs} jobs, ${options.clientProcs} client processes, API ${path.relative(process.cwd(), options.apiMain)}, ulimit -n ${openFiles} (hard ${shell('ulimit -Hn')}), ` +
      `local ports ${shell('cat /proc/sys/net/ipv4/ip_local_port_range').replace(/\s+/g, '-')}`,
  );
  if (Number(openFiles) < maxN + 1_000) {
    print(`WARNING: ulimit -n ${openFiles} is below ${maxN + 1_000}: the API (one descriptor per socket) may run out; raise it (ulimit -n) first`);
  }
  try {
    database = await openBenchDatabase(log, DATABASE, { fresh: true });
    const pool = database.pool;
    print(`database: ${database.embedded ? `embedded Postgres (${EMBEDDED_PG_DIR}), emptied` : `${DATABASE} on the DATABASE_URL server, recreated`}`);
    for (const [user, role, scope] of [
      [WORKER, 'worker', null],
      [VIEWER, 'viewer', SCOPE],
    ] as const) {
      await pool.query(
        `INSERT INTO grants (user_id, role_name, scope, granted_by) VALUES ($1, $2, $3, 'bench')
         ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING`,
        [user, role, scope],
      );
    }
    await pool.query(
      `INSERT INTO jobs (name, type, scope, owner_id, status)
       SELECT 'Subscribed job ' || i, $2, $3, 'bench-owner', 'PENDING' FROM generate_series(1, $1) AS i`,
      [options.jobs, JOB_TYPE, JOB_SCOPE],
    );
    await pool.query('VACUUM (ANALYZE) jobs');

    const secret = randomBytes(32).toString('hex');
    const probePath = path.resolve(__dirname, 'subscriptions/probe.js');
    const { JWKS_URL: _jwks, BOOTSTRAP_ADMINS: _admins, ...inherited } = process.env;
    const profileDir = path.resolve('.data/bench-profiles', `subscriptions-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    if (options.profile || options.heapSnapshots) mkdirSync(profileDir, { recursive: true });
    const cpuProfile = (name: string, n: number) =>
      options.profile && n > 0 ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-N${n}.cpuprofile`] : [];
    const snapshots = options.heapSnapshots ? { BENCH_PROBE_SNAPSHOTS: profileDir } : {};
    const apiEnv = {
      ...inherited,
      BENCH_PROBE: '1',
      ...snapshots,
      DATABASE_URL: database.url,
      JWT_SECRET: secret,
      SECRETS_KEY: randomBytes(32).toString('hex'),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      // Each tick's report gets a flush of its own: with the flush on the same period as the
      // worker, two free-running timers drift against each other and a flush now and then
      // finds two reports (one write) and the next none, so the API would be sent fewer
      // messages than the floor makes. The subscribers' jobProgress throttle follows this
      // value too (one per PROGRESS_FLUSH_MS on average), so it never drops a tick either.
      PROGRESS_FLUSH_MS: String(Math.max(10, Math.floor(options.interval / 4))),
      WORKER_RATE_LIMIT_PER_SECOND: '1000000',
      WORKER_RATE_LIMIT_BURST: '1000000',
      // The daemon must not end the jobs while they are measured.
      HEARTBEAT_TIMEOUT_MS: '86400000',
      DAEMON_INTERVAL_MS: '3600000',
    };
    const startApi = async (n: number): Promise<Server> => {
      const port = await findFreePort();
      const child = startChild('api', ['--expose-gc', '-r', probePath, ...cpuProfile('api', n), options.apiMain], { ...apiEnv, PORT: String(port) });
      const probe = new ServerProbe(child);
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, child);
      return { child, probe, url: `ws://127.0.0.1:${port}/graphql`, base: `http://127.0.0.1:${port}` };
    };
    const workerAuth = `Bearer ${await token(secret, WORKER)}`;

    // Claim every job through the API, as a worker would (an instance of its own).
    const claimer = await startApi(0);
    const leases: string[] = [];
    const jobIds: string[] = [];
    while (leases.length < options.jobs) {
      const claims = await Promise.all(
        Array.from({ length: Math.min(20, options.jobs - leases.length) }, () =>
          graphql<{ claimJob: { lease: string; job: { id: string } } | null }>(
            `${claimer.base}/graphql`,
            workerAuth,
            `mutation { claimJob(workerId: "bench-subscriptions", types: ["${JOB_TYPE}"]) { lease job { id } } }`,
            {},
          ),
        ),
      );
      const got = claims.flatMap((data) => (data.claimJob === null ? [] : [data.claimJob]));
      if (got.length === 0) break;
      for (const claim of got) {
        leases.push(claim.lease);
        jobIds.push(claim.job.id);
      }
    }
    await claimer.child.stop();
    if (leases.length < options.jobs) throw new Error(`claimed only ${leases.length} of ${options.jobs} jobs`);

    const startFloor = async (n: number): Promise<Server> => {
      const port = await findFreePort();
      const child = startChild('floor', ['--expose-gc', '-r', probePath, ...cpuProfile('floor', n), path.resolve(__dirname, 'subscriptions/floor-server.js')], {
        ...inherited,
        BENCH_PROBE: '1',
        ...snapshots,
        PORT: String(port),
        BENCH_JOB_IDS: jobIds.join(','),
        BENCH_INTERVAL_MS: String(options.interval),
      });
      const probe = new ServerProbe(child);
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, child);
      return { child, probe, url: `ws://127.0.0.1:${port}/graphql`, base: `http://127.0.0.1:${port}` };
    };

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
      viewerAuthorization: `Bearer ${await token(secret, VIEWER)}`,
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
    if (!interrupted) await cleanup();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:subscriptions failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
