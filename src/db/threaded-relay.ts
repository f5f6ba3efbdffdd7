import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { startWorkerThread } from '../util/worker-thread';
import type { ChangeRelayOptions } from './change-relay';

/** What the thread is started with. */
export interface RelayThreadData {
  readonly url: string;
  readonly options: ChangeRelayOptions;
}

export type RelayStats = { drains: number; relayed: number; vacuums: number; failures: number };

/** Messages to the thread: a flush, the end. */
export type ToRelayThread = { readonly kind: 'flush'; readonly id: number } | { readonly kind: 'stop' };

/** Messages from it. */
export type FromRelayThread =
  | { readonly kind: 'stats'; readonly stats: RelayStats }
  | { readonly kind: 'flushed'; readonly id: number; readonly error?: string }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly msg: string; readonly error?: string }
  | { readonly kind: 'stopped' };

const ENTRY = path.join(__dirname, `threaded-relay.entry${path.extname(__filename)}`);
/** A thread that does not stop when asked is ended this long after. */
const STOP_TIMEOUT_MS = 5_000;
/** A thread that died is started again after this long. */
const RESTART_MS = 1_000;

/**
 * The change relay (change-relay.ts) in a worker thread of its own, with its own connections: an
 * instance whose event loop is saturated (thousands of subscribers, seconds of delay) still sends
 * every instance's change notifications at once, as Postgres did when writers notified at
 * commit. The thread listens for the writers' wake-ups (RELAY_CHANNEL) on a LISTEN connection of
 * its own, so that they do not wait for the instance's event loop either, and drains on its own
 * clock while changes keep coming. A thread that dies is logged and started again; the outbox
 * keeps what it had not sent.
 */
export class ThreadedRelay {
  readonly stats: RelayStats = { drains: 0, relayed: 0, vacuums: 0, failures: 0 };
  private worker: Worker | undefined;
  private stopping = false;
  private nextFlush = 0;
  private readonly flushes = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private stopped: (() => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly options: ChangeRelayOptions = {},
  ) {}

  start(): void {
    this.spawn();
  }

  /** Sends everything committed so far (tests; shutdown). */
  flush(): Promise<void> {
    const id = (this.nextFlush += 1);
    return new Promise<void>((resolve, reject) => {
      this.flushes.set(id, { resolve, reject });
      this.post({ kind: 'flush', id });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (worker === undefined) return;
    const ended = new Promise<void>((resolve) => {
      this.stopped = resolve;
      worker.once('exit', () => resolve());
    });
    this.post({ kind: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await ended;
    clearTimeout(timer);
    await worker.terminate();
  }

  private post(message: ToRelayThread): void {
    this.worker?.postMessage(message);
  }

  private spawn(): void {
    const data: RelayThreadData = { url: this.url, options: this.options };
    const worker = startWorkerThread(ENTRY, { workerData: data });
    this.worker = worker;
    // The HTTP server keeps the process alive; the relay alone does not.
    worker.unref();
    worker.on('message', (message: FromRelayThread) => this.received(message));
    worker.on('error', (error) => this.log.error({ err: error }, 'the change relay thread failed'));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, flush] of this.flushes) {
        this.flushes.delete(id);
        flush.reject(new Error('the change relay thread ended'));
      }
      if (this.stopping) return;
      this.log.error({ code }, 'the change relay thread ended: starting it again');
      setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, RESTART_MS).unref();
    });
  }

  private received(message: FromRelayThread): void {
    switch (message.kind) {
      case 'stats':
        Object.assign(this.stats, message.stats);
        return;
      case 'flushed': {
        const flush = this.flushes.get(message.id);
        this.flushes.delete(message.id);
        if (message.error === undefined) flush?.resolve();
        else flush?.reject(new Error(message.error));
        return;
      }
      case 'log':
        this.log[message.level](message.error === undefined ? {} : { err: { message: message.error } }, message.msg);
        return;
      case 'stopped':
        this.stopped?.();
        return;
    }
  }
}
