/**
 * The demo's worker processes: one child process per pool (job-types.ts), each an ordinary SDK
 * worker (worker.ts). A pool whose process dies is restarted a few seconds later, unless the
 * demo is stopping. Children get an IPC channel so that they stop when this process goes away.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WORKER_POOLS, type WorkerPool } from './job-types';
import { say } from './util';

const RESTART_DELAY_MS = 5_000;
const STOP_TIMEOUT_MS = 12_000;

interface Running {
  readonly pool: WorkerPool;
  readonly workerId: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export class WorkerFleet {
  private readonly running = new Map<string, Running>();
  private readonly generation = new Map<string, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private stopping = false;

  constructor(
    private readonly url: string,
    /** A token of the `demo-worker` user (role `worker`). */
    private readonly token: string,
  ) {}

  start(): void {
    for (const pool of WORKER_POOLS) this.spawn(pool);
  }

  /** How many worker processes are up now, of how many. */
  get alive(): { up: number; of: number } {
    return { up: this.running.size, of: WORKER_POOLS.length };
  }

  /** SIGTERM to every worker (each aborts its jobs and reports them), then SIGKILL to laggards. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    const all = [...this.running.values()];
    for (const { child } of all) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(
      all.map(async ({ child, exited }) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS)));
        if ((await Promise.race([exited.then(() => 'exited' as const), timeout])) === 'timeout') child.kill('SIGKILL');
        clearTimeout(timer);
        await exited;
      }),
    );
  }

  private spawn(pool: WorkerPool): void {
    const generation = (this.generation.get(pool.name) ?? 0) + 1;
    this.generation.set(pool.name, generation);
    const workerId = `demo-${pool.name}-${generation}`;
    const child = fork(path.join(__dirname, 'worker.js'), [], {
      env: {
        ...process.env,
        DEMO_API_URL: this.url,
        DEMO_WORKER_TOKEN: this.token,
        DEMO_WORKER_ID: workerId,
        DEMO_TYPES: pool.types.join(','),
        DEMO_CONCURRENCY: String(pool.concurrency),
      },
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.running.delete(pool.name);
        resolve();
        if (this.stopping) return;
        say(
          'demo',
          `worker process ${workerId} died (${signal ?? `exit code ${code}`}): the jobs it held stay RUNNING until their heartbeat is ` +
            `older than HEARTBEAT_TIMEOUT_MS, then the daemon marks them ABENDED. Restarting the pool in ${RESTART_DELAY_MS / 1000} s`,
          'magenta',
        );
        const timer = setTimeout(() => {
          this.restartTimers.delete(timer);
          if (!this.stopping) this.spawn(pool);
        }, RESTART_DELAY_MS);
        this.restartTimers.add(timer);
      });
    });
    child.on('error', (error) => say('demo', `worker process ${workerId}: ${error.message}`, 'red'));
    this.running.set(pool.name, { pool, workerId, child, exited });
  }
}
