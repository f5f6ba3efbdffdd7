import { Client, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

/**
 * The socket's state, for the banners: connecting (the first time), unreachable (the first
 * connection failed: retrying), connected, reconnecting (lost after it was up).
 */
export type Connection = 'connecting' | 'unreachable' | 'connected' | 'reconnecting';

export interface Session {
  readonly client: Client;
  readonly ws: WsClient;
  // Function-valued properties: React's useSyncExternalStore takes them as they are, detached.
  readonly connection: () => Connection;
  readonly onConnection: (listener: () => void) => () => void;
  dispose(): void;
}

export function unauthenticated(error: CombinedError): boolean {
  return (
    (error.response as Response | undefined)?.status === 401 ||
    error.graphQLErrors.some((e) => e.extensions?.['code'] === 'UNAUTHENTICATED')
  );
}

/**
 * One urql client for a signed-in viewer: queries and mutations over HTTP, subscriptions over
 * graphql-ws (never polling). The socket retries forever with backoff; every subscription comes
 * back with a fresh snapshot, so the view is true again after a reconnect.
 */
export function createSession(token: string, onSignedOut: (reason: string) => void): Session {
  let state: Connection = 'connecting';
  let everConnected = false;
  const listeners = new Set<() => void>();
  const set = (next: Connection) => {
    state = next;
    listeners.forEach((listener) => listener());
  };
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = createWsClient({
    url: url.href,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    keepAlive: 15_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 300 * 2 ** retries) * (0.5 + Math.random() / 2)));
    },
    on: {
      connected: () => {
        everConnected = true;
        set('connected');
      },
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        if (code === 4403 || code === 4401) onSignedOut('Your session has expired or was refused: sign in again.');
        set(everConnected ? 'reconnecting' : 'unreachable');
      },
    },
  });
  const client = new Client({
    url: '/graphql',
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (unauthenticated(error)) onSignedOut('Your session has expired: sign in again.');
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return {
    client,
    ws,
    connection: () => state,
    onConnection(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose: () => void ws.dispose(),
  };
}
