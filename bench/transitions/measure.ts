/**
 * One measured window of bench:transitions: two instances (child processes, transitions/instance.ts)
 * claiming and completing jobs for `seconds`, their figures summed, and the database's commits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { LatencyHistogram } from '../support/latency-histogram';
import type { InstanceMessage } from './instance';
import { JOB_TYPE, type Variant } from './variant-databases';

export const INSTANCES = 2;

export interface Window {
  readonly repetition: number;
  readonly variant: Variant;
  readonly concurrency: number;
  readonly seconds: number;
  readonly transitions: number;
  readonly empty: number;
  readonly errors: number;
  readonly lastError: string;
  readonly latency: LatencyHistogram;
  readonly notifiedIds: number;
  readonly notifications: number;
  readonly relayDrains: number;
  readonly cpuMs: number;
  readonly commits: number;
  readonly load: number;
}

function startInstance(url: string, concurrency: number, relay: boolean): Promise<ChildProcess> {
  const child = fork(path.resolve(__dirname, 'instance.js'), [], {
    env: {
      ...process.env,
      BENCH_DATABASE_URL: url,
      BENCH_CONCURRENCY: String(concurrency),
      BENCH_JOB_TYPE: JOB_TYPE,
      BENCH_RELAY: relay ? '1' : '0',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`an instance exited (${code}) before it was ready`)));
    child.once('message', (message: InstanceMessage) => {
      if (message.type === 'ready') resolve(child);
    });
  });
}

async function commitsOf(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ commits: string }>(
      'SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.commits ?? 0);
  } finally {
    await client.end();
  }
}

export async function measure(repetition: number, variant: Variant, url: string, concurrency: number, seconds: number): Promise<Window> {
  const children = await Promise.all(Array.from({ length: INSTANCES }, () => startInstance(url, concurrency, variant === 'batched')));
  try {
    const commitsBefore = await commitsOf(url);
    const started = Date.now();
    const results = await Promise.all(
      children.map(
        (child) =>
          new Promise<Extract<InstanceMessage, { type: 'done' }>>((resolve, reject) => {
            child.once('exit', (code) => reject(new Error(`an instance exited (${code}) during the window`)));
            child.on('message', (message: InstanceMessage) => {
              if (message.type === 'done') resolve(message);
            });
            child.send({ type: 'run', seconds });
          }),
      ),
    );
    const elapsed = (Date.now() - started) / 1000;
    // pg_stat_database lags a little: the statistics are flushed at most every second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const commits = (await commitsOf(url)) - commitsBefore;
    const latency = new LatencyHistogram();
    for (const result of results) latency.merge(result.latency);
    const sum = (pick: (r: (typeof results)[number]) => number) => results.reduce((total, r) => total + pick(r), 0);
    return {
      repetition,
      variant,
      concurrency,
      seconds,
      transitions: sum((r) => r.transitions),
      empty: sum((r) => r.empty),
      errors: sum((r) => r.errors),
      lastError: results.map((r) => r.lastError).find((e) => e !== '') ?? '',
      latency,
      // Each instance hears every notification: one instance's count is the database's.
      notifiedIds: results[0]?.notifiedIds ?? 0,
      notifications: results[0]?.notifications ?? 0,
      relayDrains: sum((r) => r.relayDrains),
      cpuMs: sum((r) => r.cpuMs),
      commits: commits / elapsed,
      load: loadavg()[0] ?? 0,
    };
  } finally {
    for (const child of children) {
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  }
}
