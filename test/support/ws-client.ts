import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Received<T> {
  readonly messages: T[];
  readonly errors: unknown[];
  completed: boolean;
  /** Waits until `predicate` holds for the messages so far (or fails after the deadline). */
  until(predicate: (messages: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  stop(): void;
}

export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

/** A graphql-ws client with a bearer token, retrying off: tests want to see every close. */
export function wsClient(httpUrl: string, token: string | (() => string), options: { retry?: boolean } = {}): Client {
  return createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${typeof token === 'function' ? token() : token}` }),
    retryAttempts: options.retry === true ? 20 : 0,
    retryWait: async () => new Promise((resolve) => setTimeout(resolve, 100)),
    lazy: true,
  });
}

/** What went wrong, readable: graphql-ws hands over Errors and close events, which JSON.stringify prints as `{}`. */
export function describeErrors(errors: unknown[]): string {
  return JSON.stringify(
    errors.map((error) => {
      if (error instanceof Error) return { error: error.message };
      if (typeof error === 'object' && error !== null && 'code' in error && 'reason' in error) {
        return { closed: error.code, reason: String(error.reason) };
      }
      if (typeof error === 'object' && error !== null && 'type' in error) {
        const event = error as { type: unknown; message?: unknown };
        return { event: event.type, message: event.message };
      }
      return error;
    }),
  );
}

export function subscribe<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Received<T> {
  const received: Received<T> = {
    messages: [],
    errors: [],
    completed: false,
    async until(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received.messages)) {
        if (Date.now() > deadline) {
          throw new Error(`timed out; got ${JSON.stringify(received.messages).slice(0, 2000)} errors ${describeErrors(received.errors)}`);
        }
        if (received.errors.length > 0 && !predicate(received.messages)) {
          throw new Error(`subscription failed: ${describeErrors(received.errors)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received.messages;
    },
    stop: () => undefined,
  };
  received.stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors !== undefined) received.errors.push(...value.errors);
        if (value.data != null) received.messages.push(value.data);
      },
      error: (error) => received.errors.push(error),
      complete: () => {
        received.completed = true;
      },
    },
  );
  return received;
}

/** A raw socket, to watch the protocol itself (close codes, init timeouts). */
export function rawSocket(httpUrl: string, protocol = 'graphql-transport-ws') {
  const socket = protocol === '' ? new WebSocket(wsUrl(httpUrl)) : new WebSocket(wsUrl(httpUrl), protocol);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const messages: Array<Record<string, unknown>> = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  return { socket, closed, opened, messages };
}
