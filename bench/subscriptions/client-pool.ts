/**
 * The runner's side of the client processes: forks them (client-process.js), spreads the
 * subscribers over them, and merges what they measured. They are stopped by `stop()`, which the
 * runner calls on success, failure and SIGINT; a synchronous kill on exit is the last resort.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { LatencyHistogram } from '../support/latency-histogram';
import type { ClientReply, OpenReply, StatusReply, WindowReply } from './protocol';

type Request =
  | {
      type: 'open';
      url: string;
      authorization: string | null;
      jobIds: readonly string[];
      from: number;
      to: number;
      batch: number;
      timeoutMs: number;
    }
  | { type: 'window-start' }
  | { type: 'window-stop' }
  | { type: 'status' }
  | { type: 'close' };

const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

class ClientProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly child: ChildProcess;

  constructor(readonly index: number) {
    this.child = fork(path.join(__dirname, 'client-process.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    alive.add(this.child);
    this.child.on('message', (reply: ClientReply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`client process ${index}: ${reply.error}`));
    });
    this.child.once('exit', (code, signal) => {
      alive.delete(this.child);
      for (const waiter of this.pending.values()) waiter.reject(new Error(`client process ${index} exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  call<T>(request: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ ...request, id });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface OpenResult {
  readonly subscribed: number;
  readonly failed: number;
  readonly seconds: number;
  readonly failures: readonly string[];
}

export interface WindowResult {
  readonly seconds: number;
  readonly messages: number;
  readonly messagesPerSecond: number;
  readonly undated: number;
  readonly histogram: LatencyHistogram;
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  readonly cpuSeconds: number;
}

export class ClientPool {
  private readonly processes: ClientProcess[];

  constructor(count: number) {
    this.processes = Array.from({ length: count }, (_, index) => new ClientProcess(index));
  }

  get pids(): number[] {
    return this.processes.map((p) => p.pid);
  }

  /** N subscribers over the processes: subscriber i watches jobIds[i % K]. `batch` is the total opened at once. */
  async open(options: {
    url: string;
    authorization: string | null;
    jobIds: readonly string[];
    count: number;
    batch: number;
    timeoutMs: number;
  }): Promise<OpenResult> {
    const share = Math.ceil(options.count / this.processes.length);
    const perProcessBatch = Math.max(1, Math.ceil(options.batch / this.processes.length));
    const replies = await Promise.all(
      this.processes.map((p, index) =>
        p.call<OpenReply>({
          type: 'open',
          url: options.url,
          authorization: options.authorization,
          jobIds: options.jobIds,
          from: Math.min(options.count, index * share),
          to: Math.min(options.count, (index + 1) * share),
          batch: perProcessBatch,
          timeoutMs: options.timeoutMs,
        }),
      ),
    );
    return {
      subscribed: replies.reduce((sum, r) => sum + r.subscribed, 0),
      failed: replies.reduce((sum, r) => sum + r.failed, 0),
      seconds: Math.max(...replies.map((r) => r.seconds)),
      failures: [...new Set(replies.flatMap((r) => r.failures))].slice(0, 5),
    };
  }

  async windowStart(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.call({ type: 'window-start' })));
  }

  async windowStop(): Promise<WindowResult> {
    const replies = await Promise.all(this.processes.map((p) => p.call<WindowReply>({ type: 'window-stop' })));
    const histogram = new LatencyHistogram();
    for (const reply of replies) histogram.merge(reply.histogram);
    return {
      seconds: Math.max(...replies.map((r) => r.seconds)),
      messages: replies.reduce((sum, r) => sum + r.messages, 0),
      messagesPerSecond: replies.reduce((sum, r) => sum + r.messages / r.seconds, 0),
      undated: replies.reduce((sum, r) => sum + r.undated, 0),
      histogram,
      loopDelayP99: Math.max(...replies.map((r) => r.loopDelayP99)),
      loopDelayMax: Math.max(...replies.map((r) => r.loopDelayMax)),
      cpuSeconds: replies.reduce((sum, r) => sum + r.cpuSeconds, 0),
    };
  }

  async status(): Promise<StatusReply> {
    const replies = await Promise.all(this.processes.map((p) => p.call<StatusReply>({ type: 'status' })));
    const closedCodes: Record<string, number> = {};
    for (const reply of replies)
      for (const [code, count] of Object.entries(reply.closedCodes)) closedCodes[code] = (closedCodes[code] ?? 0) + count;
    return {
      held: replies.reduce((sum, r) => sum + r.held, 0),
      total: replies.reduce((sum, r) => sum + r.total, 0),
      closedCodes,
      errors: [...new Set(replies.flatMap((r) => r.errors))].slice(0, 10),
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.call({ type: 'close' })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
  }
}
