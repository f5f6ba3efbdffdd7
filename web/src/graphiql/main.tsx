import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { createClient } from 'graphql-ws';
import { createRoot } from 'react-dom/client';
import { storedToken, takeTokenFromFragment } from '../lib/token';

// GraphiQL, bundled (works offline), for development only: the server does not serve it in
// production. It signs in with the console's token (this tab's sessionStorage) or a link.
void takeTokenFromFragment();
const token = storedToken();
const url = new URL('/graphql', window.location.href);
const wsUrl = new URL(url);
wsUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
const fetcher = createGraphiQLFetcher({
  url: url.href,
  headers,
  wsClient: createClient({ url: wsUrl.href, connectionParams: headers, lazy: true }),
});

createRoot(document.getElementById('graphiql') as HTMLElement).render(
  <GraphiQL fetcher={fetcher} defaultHeaders={JSON.stringify(headers, null, 2)} defaultQuery={'{\n  me { id name actions }\n}\n'} />,
);
