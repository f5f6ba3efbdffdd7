/**
 * A CPU profile of a child process over exactly the runs that matter (not its start-up): the
 * child listens with `--inspect=127.0.0.1:<port>`, and the runner drives V8's Profiler over the
 * DevTools protocol around the measured runs.
 */
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

export class InspectorProfiler {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id as number);
      if (message.error !== undefined) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
  }

  /** Connects to the inspector of the process listening on `port`. */
  static async connect(port: number): Promise<InspectorProfiler> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const url = targets[0]?.webSocketDebuggerUrl;
    if (url === undefined) throw new Error(`no inspector target on port ${port}`);
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const profiler = new InspectorProfiler(socket);
    await profiler.send('Profiler.enable');
    await profiler.send('Profiler.setSamplingInterval', { interval: 200 });
    return profiler;
  }

  start(): Promise<unknown> {
    return this.send('Profiler.start');
  }

  /** Stops profiling and writes the profile (a .cpuprofile) to `file`. */
  async stop(file: string): Promise<void> {
    const { profile } = (await this.send('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
  }

  close(): void {
    this.socket.close();
  }

  private send(method: string, params?: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, ...(params === undefined ? {} : { params }) }));
    });
  }
}
