/**
 * One measured run of bench:subscriptions: a fresh server (the API or the floor), warmed up, N
 * clients subscribed, messages flowing for the window, then the figures: messages, latency,
 * memory before, idle and after, and where the CPU went.
 */
import { rmSync } from 'node:fs';
import { print } from '../support/output';
import type { Child } from '../support/processes';
import { childPids, CpuMeter, machineTimes, median, rssBytes } from '../support/proc-stats';
import type { ClientPool, OpenResult, WindowResult } from './client-pool';
import { summariseHeapGrowth } from './heap-summary';
import type { NotifyCounter } from './notify-counter';
import type { Options } from './options';
import type { ProbeReading } from './probe';
import type { ProgressWorker } from './progress-worker';
import type { ServerProbe } from './server-probe';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
export const pct = (cpuSeconds: number, seconds: number) => `${Math.round((cpuSeconds / seconds) * 100)}%`;
export const kbPer = (before: number, after: number, n: number) => (after - before) / 1024 / n;

export interface Memory {
  readonly rss: number;
  readonly probe: ProbeReading;
}

/** A stable reading: a full GC in the server, then the median of several RSS samples. */
export async function steadyMemory(probe: ServerProbe): Promise<Memory> {
  const reading = await probe.read();
  await sleep(500);
  const samples: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    samples.push(rssBytes(probe.pid));
    await sleep(300);
  }
  return { rss: median(samples), probe: reading };
}

export interface Run {
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
  readonly cpu: {
    server: number;
    postgres: number;
    clients: number;
    runner: number;
    machineBusy: number;
    machineTotal: number;
    seconds: number;
  };
}

/** A server started for one run: the API or the floor. */
export interface Server {
  readonly child: Child;
  readonly probe: ServerProbe;
  /** ws:// URL of /graphql. */
  readonly url: string;
  /** Its HTTP base URL. */
  readonly base: string;
}

export interface Targets {
  /** Starts a fresh server (each N gets its own process, so memory readings do not carry over). */
  readonly start: (target: 'API' | 'floor', n: number) => Promise<Server>;
  readonly viewerAuthorization: string;
  readonly jobIds: readonly string[];
  readonly worker: ProgressWorker;
  readonly notify: NotifyCounter;
  readonly clients: ClientPool;
  readonly postmaster: number | undefined;
}

export async function runTarget(target: 'API' | 'floor', n: number, options: Options, t: Targets): Promise<Run> {
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
  const warmed = await t.clients.open({
    url: server.url,
    authorization,
    jobIds: t.jobIds,
    count: warmN,
    batch: options.batch,
    timeoutMs: 60_000,
  });
  await sleep(Math.max(3, options.warmup) * 1000);
  await t.clients.closeAll();
  await load(false);
  if (warmed.failed > 0) print(`${label}: warm-up: ${warmed.failed} of ${warmN} failed to subscribe (${warmed.failures.join('; ')})`);
  await sleep(1_000);

  // Memory is read with no message in flight: before, with N held idle, with N after the load.
  const before = await steadyMemory(server.probe);
  const snapshotBefore = options.heapSnapshots ? await server.probe.snapshot() : undefined;
  const opened = await t.clients.open({
    url: server.url,
    authorization,
    jobIds: t.jobIds,
    count: n,
    batch: options.batch,
    timeoutMs: 60_000,
  });
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
  const expected = target === 'API' ? (notified.ids / t.jobIds.length) * n : (window.seconds * 1000 * n) / options.interval;
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
