import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import pino from 'pino';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { startServer } from '../../src/app/start-server';
import type { TestDatabase } from './test-database';
import { postGraphQL, TEST_JWT_SECRET, TEST_SECRETS_KEY, type TestServer } from './test-server';
import { wsUrl } from './ws-client';

/**
 * Helpers for the hostile-input suite: raw HTTP and raw graphql-transport-ws exchanges that
 * keep everything a test may want to look at (status, headers, close codes, the raw text),
 * and a fingerprint of the tables a hostile request must not touch.
 */

export interface GraphQLErrorShape {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly extensions?: Record<string, unknown>;
}

/** What one request over either transport came to. */
export interface Outcome {
  readonly transport: 'http' | 'ws';
  /** HTTP only. */
  readonly status?: number | undefined;
  readonly headers?: Headers | undefined;
  /** WebSocket only: set when the server closed the socket (or refused the handshake) instead of answering. */
  readonly closed?: { readonly code: number; readonly reason: string } | undefined;
  /** WebSocket only: the upgrade was refused (the HTTP answer instead of a socket). */
  readonly handshakeRefused?: string | undefined;
  /** WebSocket subscriptions only: nothing arrived within the wait (a live, silent subscription). */
  readonly silent?: boolean | undefined;
  readonly data?: unknown;
  readonly errors?: readonly GraphQLErrorShape[] | undefined;
  /** Everything the server said, as text, to look for leaks. */
  readonly text: string;
  /** Milliseconds from sending the operation to its answer. */
  readonly ms: number;
}

export interface HttpOptions {
  readonly method?: 'GET' | 'POST' | 'OPTIONS';
  readonly headers?: Record<string, string>;
  /** Sent as is when a string, else JSON-encoded with content-type application/json. */
  readonly body?: unknown;
  /** Appended to the URL (a query string for GET). */
  readonly search?: string;
}

export async function http(url: string, options: HttpOptions = {}): Promise<Outcome> {
  const json = options.body !== undefined && typeof options.body !== 'string';
  const started = Date.now();
  const response = await fetch(url + (options.search ?? ''), {
    method: options.method ?? 'POST',
    headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.body === undefined ? {} : { body: json ? JSON.stringify(options.body) : options.body }),
  });
  const text = await response.text();
  const ms = Date.now() - started;
  let parsed: { data?: unknown; errors?: GraphQLErrorShape[] } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON: the assertions on `errors` will say so.
  }
  return { transport: 'http', status: response.status, headers: response.headers, data: parsed.data, errors: parsed.errors, text, ms };
}

export function bearer(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

export interface OperationPayload {
  readonly query: string;
  readonly variables?: Record<string, unknown> | undefined;
  readonly operationName?: string | undefined;
}

export interface WsOptions {
  /** Sent as `connectionParams.authorization` as is (any JSON value); omitted when undefined. */
  readonly authorization?: unknown;
  /** The Origin header of the upgrade request. */
  readonly origin?: string;
  /** The X-Request-Id header of the upgrade request (it names the connection in the server's log). */
  readonly requestId?: string;
  /**
   * For subscriptions: how long to wait for a first message before calling the subscription
   * live and silent. Queries and mutations always wait for their answer.
   */
  readonly subscriptionWaitMs?: number;
  /** Send this raw text as the subscribe message instead of the JSON of the payload. */
  readonly rawMessage?: string;
  readonly timeoutMs?: number;
}

type Message = Record<string, unknown> & { type?: string; id?: string; payload?: unknown };

/**
 * One operation over its own graphql-transport-ws connection: connection_init (with the given
 * authorization), then one subscribe. Answers the first result (or error), or how the socket
 * closed. The socket is closed normally afterwards.
 */
export async function wsOnce(httpUrl: string, payload: OperationPayload | undefined, options: WsOptions = {}): Promise<Outcome> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const socket = new WebSocket(wsUrl(httpUrl), 'graphql-transport-ws', upgradeOptions(options));
  const messages: Message[] = [];
  let closed: { code: number; reason: string } | undefined;
  let failed: Error | undefined;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as Message);
    notify();
  });
  socket.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    notify();
  });
  socket.on('error', (error) => {
    failed = error;
    notify();
  });
  socket.on('open', notify);
  const until = (predicate: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (predicate()) finish(true);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (value: boolean) => {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(value);
      };
      waiters.add(check);
      check();
    });
  const text = () => JSON.stringify({ messages, closed, failed: failed?.message });

  try {
    await until(() => socket.readyState === WebSocket.OPEN || closed !== undefined || failed !== undefined, timeoutMs);
    if (socket.readyState !== WebSocket.OPEN) {
      // The handshake itself was refused (an upgrade answered with an HTTP error).
      return { transport: 'ws', handshakeRefused: failed?.message ?? `closed with ${closed?.code ?? 'nothing'}`, text: text(), ms: 0 };
    }
    socket.send(
      JSON.stringify({
        type: 'connection_init',
        payload: options.authorization === undefined ? {} : { authorization: options.authorization },
      }),
    );
    await until(() => closed !== undefined || messages.some((message) => message.type === 'connection_ack'), timeoutMs);
    if (closed !== undefined || payload === undefined) {
      return { transport: 'ws', closed, text: text(), ms: 0 };
    }
    const started = Date.now();
    socket.send(options.rawMessage ?? JSON.stringify({ id: '1', type: 'subscribe', payload }));
    const mine = () => messages.filter((message) => message.id === '1');
    const answered = () => mine().some((message) => message.type === 'error' || message.type === 'complete');
    const isSubscription = /^\s*subscription\b/.test(payload.query);
    const waitMs = isSubscription ? (options.subscriptionWaitMs ?? 300) : timeoutMs;
    const done = await until(() => closed !== undefined || answered() || (isSubscription && mine().length > 0), waitMs);
    const ms = Date.now() - started;
    if (!done && !isSubscription) throw new Error(`no answer over the socket within ${timeoutMs} ms: ${text().slice(0, 500)}`);
    const nexts = mine().filter((message) => message.type === 'next');
    const errorMessage = mine().find((message) => message.type === 'error');
    const first = nexts[0]?.payload as { data?: unknown; errors?: GraphQLErrorShape[] } | undefined;
    const errors = [...(first?.errors ?? []), ...((errorMessage?.payload as GraphQLErrorShape[] | undefined) ?? [])];
    if (closed !== undefined && mine().length === 0) return { transport: 'ws', closed, text: text(), ms };
    return {
      transport: 'ws',
      closed,
      silent: isSubscription && mine().length === 0 ? true : undefined,
      data: first?.data,
      errors: errors.length === 0 ? undefined : errors,
      text: text(),
      ms,
    };
  } finally {
    if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000);
      await until(() => closed !== undefined, 1_000);
    } else if (socket.readyState === WebSocket.CONNECTING) {
      socket.terminate();
    }
  }
}

function upgradeOptions(options: WsOptions): WebSocket.ClientOptions {
  return {
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.requestId === undefined ? {} : { headers: { 'x-request-id': options.requestId } }),
  };
}

/** Many operations over one graphql-transport-ws connection, opened again should the server close it. */
export interface WsSession {
  /** One operation, answered like wsOnce answers (a live subscription is completed afterwards). */
  run(payload: OperationPayload, options?: { readonly subscriptionWaitMs?: number; readonly timeoutMs?: number }): Promise<Outcome>;
  close(): Promise<void>;
}

export function wsSession(httpUrl: string, authorization: string): WsSession {
  interface Connection {
    readonly socket: WebSocket;
    /** Settles once acknowledged (undefined) or closed instead (how). */
    ready: Promise<{ code: number; reason: string } | undefined>;
    readonly messages: Map<string, Message[]>;
    closed?: { code: number; reason: string };
    readonly waiters: Set<() => void>;
  }
  let current: Connection | undefined;
  let next = 0;
  const connect = (): Connection => {
    const socket = new WebSocket(wsUrl(httpUrl), 'graphql-transport-ws');
    const connection: Connection = { socket, messages: new Map(), waiters: new Set(), ready: Promise.resolve(undefined) };
    const notify = () => {
      for (const waiter of [...connection.waiters]) waiter();
    };
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Message;
      const key = message.id ?? '';
      connection.messages.set(key, [...(connection.messages.get(key) ?? []), message]);
      notify();
    });
    socket.on('close', (code, reason) => {
      connection.closed = { code, reason: reason.toString() };
      notify();
    });
    socket.on('error', () => undefined);
    connection.ready = new Promise((resolve) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
      const check = () => {
        if (connection.closed !== undefined) resolve(connection.closed);
        else if (connection.messages.get('')?.some((message) => message.type === 'connection_ack')) resolve(undefined);
        else return;
        connection.waiters.delete(check);
      };
      connection.waiters.add(check);
    });
    return connection;
  };
  const until = (connection: Connection, predicate: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (predicate()) finish(true);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (value: boolean) => {
        clearTimeout(timer);
        connection.waiters.delete(check);
        resolve(value);
      };
      connection.waiters.add(check);
      check();
    });

  return {
    async run(payload, options = {}) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      if (current === undefined || current.closed !== undefined) current = connect();
      const connection = current;
      const refused = await connection.ready;
      if (refused !== undefined) return { transport: 'ws', closed: refused, text: JSON.stringify({ closed: refused }), ms: 0 };
      const id = String((next += 1));
      const mine = () => connection.messages.get(id) ?? [];
      const started = Date.now();
      connection.socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
      const isSubscription = /^\s*subscription\b/.test(payload.query);
      const answered = () =>
        mine().some((message) => message.type === 'error' || message.type === 'complete') || (isSubscription && mine().length > 0);
      const done = await until(
        connection,
        () => connection.closed !== undefined || answered(),
        isSubscription ? (options.subscriptionWaitMs ?? 300) : timeoutMs,
      );
      const ms = Date.now() - started;
      const text = JSON.stringify({ messages: mine(), closed: connection.closed });
      if (!done && !isSubscription) throw new Error(`no answer over the socket within ${timeoutMs} ms: ${text.slice(0, 500)}`);
      if (
        isSubscription &&
        connection.closed === undefined &&
        !mine().some((message) => message.type === 'error' || message.type === 'complete')
      ) {
        connection.socket.send(JSON.stringify({ id, type: 'complete' }));
      }
      if (connection.closed !== undefined && mine().length === 0) return { transport: 'ws', closed: connection.closed, text, ms };
      const first = mine().find((message) => message.type === 'next')?.payload as
        { data?: unknown; errors?: GraphQLErrorShape[] } | undefined;
      const errorMessage = mine().find((message) => message.type === 'error');
      const errors = [...(first?.errors ?? []), ...((errorMessage?.payload as GraphQLErrorShape[] | undefined) ?? [])];
      return {
        transport: 'ws',
        closed: connection.closed,
        silent: isSubscription && mine().length === 0 ? true : undefined,
        data: first?.data,
        errors: errors.length === 0 ? undefined : errors,
        text,
        ms,
      };
    },
    async close() {
      const connection = current;
      current = undefined;
      if (connection === undefined || connection.closed !== undefined) return;
      connection.socket.close(1000);
      await until(connection, () => connection.closed !== undefined, 1_000);
      if (connection.closed === undefined) connection.socket.terminate();
    },
  };
}

export type Snapshot = Record<string, { count: number; hash: string }>;

/**
 * Every table of the application (all of schema public but the migrations log, the change
 * relay's bookkeeping, which every instance's relay moves on its own, and jobFacets' rollup of
 * deltas, derived from `jobs`, which is compared): a row count and a hash
 * of every row, so that any row added, removed or changed shows.
 */
export async function snapshot(pool: Pool): Promise<Snapshot> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT IN ('migrations', 'change_relay', 'change_outbox', 'job_facet_counts') ORDER BY c.relname`,
  );
  const result: Snapshot = {};
  for (const { name } of tables) {
    const { rows } = await pool.query<{ count: number; hash: string }>(
      `SELECT count(*)::int AS count, coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') AS hash FROM "${name}" t`,
    );
    result[name] = rows[0]!;
  }
  return result;
}

/** Removes a job and every row that names it (timeline, events, notifications...), in any table with a job_id. */
export async function removeJob(pool: Pool, jobId: string): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'job_id' AND table_name <> 'jobs' ORDER BY table_name`,
  );
  for (const { name } of rows) await pool.query(`DELETE FROM "${name}" WHERE job_id = $1`, [jobId]);
  await pool.query('DELETE FROM jobs WHERE id = $1', [jobId]);
}

/** Stack frames, SQL or Postgres' own words in an answer: what a refusal must never show. */
export const LEAK =
  /\bat [^\s"]+ \(|\.(ts|js):\d+:\d+|stacktrace|\bSELECT\b|\bINSERT INTO\b|\bUPDATE jobs\b|\bFROM (jobs|roles|grants|timeline_events)\b|syntax error at|relation "|violates|duplicate key|invalid byte sequence|node_modules/i;

/** A server whose log lines are kept, to find an error id in them. Otherwise like startTestServer. */
export async function startLoggedServer(
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<TestServer & { logLines(): string[] }> {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  // Keys a development start would write: removed on close, like startTestServer's.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jobwatch-data-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    JWT_SECRET: TEST_JWT_SECRET,
    SECRETS_KEY: TEST_SECRETS_KEY,
    PORT: '0',
    DATA_DIR: dataDir,
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    WORKER_RATE_LIMIT_PER_SECOND: '1000000',
    WORKER_RATE_LIMIT_BURST: '1000000',
    ...env,
  });
  const server = await startServer(config, { host: '127.0.0.1', poolSize: 5, daemon: false, log }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  let closing: Promise<void> | undefined;
  return {
    ...server,
    close: async () => (closing ??= server.close().finally(() => rmSync(dataDir, { recursive: true, force: true }))),
    gql: <T>(token: string | undefined, query: string, variables?: Record<string, unknown>) =>
      postGraphQL<T>(server.url, token, query, variables),
    logLines: () => [...lines],
  };
}
