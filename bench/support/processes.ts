/**
 * Child processes the benchmark starts (the API, the floor) and must always stop: each is killed
 * on `stopAll()`, which the runner calls on success, failure and SIGINT/SIGTERM; a synchronous
 * kill on process exit is the last resort.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { GcTotals } from './gc-meter';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The last lines it wrote (for error messages). */
  output(): string;
  /** Its garbage collector's pauses so far, when it was started with gc-meter preloaded (undefined otherwise). */
  gcTotals(): Promise<GcTotals | undefined>;
  stop(): Promise<void>;
}

/** How long a child may take to answer gcTotals(): one that does not has no meter. */
const GC_ANSWER_MS = 2_000;

const running = new Set<Child>();

process.on('exit', () => {
  for (const child of running) child.process.kill('SIGKILL');
});
// A closed stdout (`| head`) must not end the run before the children are stopped.
process.stdout.on('error', () => undefined);

export function startChild(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Child {
  // An IPC channel, for gc-meter's answers (a child without the meter never reads it).
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', (chunk: Buffer) => {
    keep(chunk);
    process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: Child = {
    name,
    process: child,
    output: () => lines.join('\n'),
    gcTotals: () =>
      new Promise((resolve) => {
        if (!child.connected) {
          resolve(undefined);
          return;
        }
        const done = (totals: GcTotals | undefined) => {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(totals);
        };
        const onMessage = (message: unknown) => {
          const totals = (message as { gcTotals?: GcTotals } | null)?.gcTotals;
          if (totals !== undefined) done(totals);
        };
        const timer = setTimeout(() => done(undefined), GC_ANSWER_MS);
        child.on('message', onMessage);
        // With a callback, a channel that closed meanwhile is an answer of none, not an 'error' event.
        child.send({ gc: true }, (error) => {
          if (error !== null) done(undefined);
        });
      }),
    // Stays in `running` until it has exited, so that the exit hook still kills it if this
    // process dies while waiting (a server that hangs on SIGTERM gets SIGKILL after 5 s).
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(handle);
    },
  };
  running.add(handle);
  return handle;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

/** Waits until GET `url` answers 200; fails early when the child exits, or after `timeoutMs`. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(
        `${child.name} exited (${child.process.exitCode ?? child.process.signalCode}) before ${url} answered:\n${child.output()}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
