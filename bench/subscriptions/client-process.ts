/**
 * A client process of bench:subscriptions (forked by client-pool.ts, driven over IPC): opens
 * one graphql-ws client, hence one WebSocket, per subscriber, each subscribed to `jobProgress`
 * of one job, and measures each message's latency: the receipt time minus the message's
 * `progress.updatedAt` (the database's now() at the progress write for the API; the emit time
 * for the floor; the same machine clock either way).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { LatencyHistogram } from '../support/latency-histogram';
import {
  type ClientReply,
  type ClientRequest,
  type OpenReply,
  type ProgressMessage,
  type StatusReply,
  SUBSCRIPTION_QUERY,
  type WindowReply,
} from './protocol';

interface Subscriber {
  readonly client: Client;
  subscribed: boolean;
  ended: boolean;
  closed: boolean;
  closedAt: Promise<void>;
}

const subscribers: Subscriber[] = [];
const histogram = new LatencyHistogram();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const closedCodes = new Map<string, number>();
const errors = new Set<string>();
let windowOpen = false;
let windowStarted = 0;
let windowCpu = process.cpuUsage();
let messages = 0;
let undated = 0;

function describe(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join('; ');
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const event = error as { code: number; reason?: string };
    return `closed ${event.code} ${event.reason ?? ''}`.trim();
  }
  return String(error);
}

function remember(error: string): void {
  if (errors.size < 20) errors.add(error.slice(0, 300));
}

/** Opens one subscriber; resolves once it received its first message, failed, or timed out. */
function openOne(url: string, authorization: string | null, jobId: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (failure: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(failure);
    };
    let markClosed: () => void = () => undefined;
    const closedAt = new Promise<void>((done) => (markClosed = done));
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      connectionParams: authorization === null ? {} : { authorization },
      on: {
        closed: (event) => {
          subscriber.closed = true;
          const code = String((event as { code?: number } | undefined)?.code ?? '?');
          closedCodes.set(code, (closedCodes.get(code) ?? 0) + 1);
          markClosed();
          settle(`socket closed (${code}) before the first message`);
        },
      },
    });
    const subscriber: Subscriber = { client, subscribed: false, ended: false, closed: false, closedAt };
    subscribers.push(subscriber);
    const timer = setTimeout(() => settle(`no first message within ${timeoutMs} ms`), timeoutMs);
    client.subscribe<ProgressMessage>(
      { query: SUBSCRIPTION_QUERY, variables: { id: jobId } },
      {
        next: (result) => {
          const received = Date.now();
          if (!subscriber.subscribed) {
            subscriber.subscribed = true;
            settle(undefined);
          }
          if (!windowOpen) return;
          messages += 1;
          const stamp = result.data?.jobProgress?.progress.updatedAt;
          if (stamp == null) {
            undated += 1;
            if (result.errors !== undefined) remember(describe(result.errors));
            return;
          }
          histogram.add(received - Date.parse(stamp));
        },
        error: (error) => {
          subscriber.ended = true;
          const text = describe(error);
          remember(text);
          settle(text);
        },
        complete: () => {
          subscriber.ended = true;
          settle('completed before the first message');
        },
      },
    );
  });
}

async function open(request: Extract<ClientRequest, { type: 'open' }>): Promise<OpenReply> {
  const started = Date.now();
  let subscribed = 0;
  let failed = 0;
  const failures = new Set<string>();
  for (let first = request.from; first < request.to; first += request.batch) {
    const last = Math.min(request.to, first + request.batch);
    const results = await Promise.all(
      Array.from({ length: last - first }, (_, offset) =>
        openOne(request.url, request.authorization, request.jobIds[(first + offset) % request.jobIds.length] as string, request.timeoutMs),
      ),
    );
    for (const failure of results) {
      if (failure === undefined) subscribed += 1;
      else {
        failed += 1;
        if (failures.size < 5) failures.add(failure);
      }
    }
  }
  return { subscribed, failed, seconds: (Date.now() - started) / 1000, failures: [...failures] };
}

function status(): StatusReply {
  const held = subscribers.filter((s) => s.subscribed && !s.ended && !s.closed).length;
  return { held, total: subscribers.length, closedCodes: Object.fromEntries(closedCodes), errors: [...errors] };
}

async function closeAll(): Promise<{ closed: number }> {
  const all = subscribers.splice(0);
  for (const subscriber of all) void subscriber.client.dispose();
  // Every socket's close event, or 10 s at most.
  await Promise.race([Promise.all(all.map((s) => s.closedAt)), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  closedCodes.clear();
  errors.clear();
  return { closed: all.filter((s) => s.closed).length };
}

async function handle(request: ClientRequest): Promise<unknown> {
  switch (request.type) {
    case 'open':
      return open(request);
    case 'window-start':
      histogram.reset();
      messages = 0;
      undated = 0;
      loopDelay.reset();
      windowCpu = process.cpuUsage();
      windowStarted = Date.now();
      windowOpen = true;
      return null;
    case 'window-stop': {
      windowOpen = false;
      const cpu = process.cpuUsage(windowCpu);
      const reply: WindowReply = {
        seconds: (Date.now() - windowStarted) / 1000,
        messages,
        undated,
        histogram: histogram.toSparse(),
        loopDelayP99: loopDelay.percentile(99) / 1e6,
        loopDelayMax: loopDelay.max / 1e6,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      };
      return reply;
    }
    case 'status':
      return status();
    case 'close':
      return closeAll();
  }
}

process.on('message', (message: ClientRequest) => {
  handle(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies ClientReply),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: describe(error) } satisfies ClientReply),
  );
});
// The runner is gone: close everything and leave.
process.on('disconnect', () => {
  for (const subscriber of subscribers) void subscriber.client.dispose();
  setTimeout(() => process.exit(0), 200).unref();
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => undefined);
