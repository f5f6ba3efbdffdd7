import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';
import { findFreePort } from '../src/util/free-port';
import { apiSuite } from './support/api-suite';
import { eventually } from './support/eventually';
import { killServerProcesses, startServerProcess, type ServerProcess } from './support/server-process';
import type { TestServer } from './support/test-server';
import { wsUrl } from './support/ws-client';

/**
 * The README's graphql-ws snippet, run as written (only the URL and Node's WebSocket added),
 * across a real restart of the server process it is connected to, longer than graphql-ws'
 * defaults survive: it keeps retrying through refused connections, subscribes again with
 * `since`, and ends with the truth: jobs that finished or were deleted while it was away leave
 * its list, a job created meanwhile joins it, and live changes flow again. Another instance on
 * the same database takes the workers' and the admin's calls while this one is down.
 */
const suite = apiSuite();
/** The other instance: the suite's server. */
let other: TestServer;
let admin: string;
let worker: string;
const clients: Client[] = [];
suite.disposeFirst(() => Promise.all(clients.map(async (client) => client.dispose())));

beforeAll(() => {
  other = suite.server;
  admin = suite.admin;
  worker = suite.worker;
});
afterEach(killServerProcesses);

/** The README's first js block under "Subscriptions", without its import. */
function readmeSnippet(): string {
  const readme = readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Subscriptions'));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined || !block.includes('retryAttempts')) throw new Error('the README has no graphql-ws snippet with retries');
  return block.replace(/^import .*$/gm, '');
}

interface Shown {
  id: string;
  status: string;
  removed: boolean;
}

const ACTIVE = ['WAITING_APPROVAL', 'PENDING', 'RUNNING', 'TRAPPED', 'TRAP_PAUSED', 'CANCELLING', 'ROLLBACK'];

test('the README client survives a restart longer than 2 s and ends with the truth', async () => {
  const port = await findFreePort();
  let server: ServerProcess = await startServerProcess(suite.db.url, { PORT: String(port) });
  const gql = <T = Record<string, unknown>>(bearer: string, query: string, variables: Record<string, unknown> = {}) =>
    other.gql<T>(bearer, query, variables);
  const create = async (name: string) =>
    (
      await gql<{ createJob: { id: string } }>(
        admin,
        'mutation($n: String!) { createJob(input: { name: $n, type: "reconnect", scope: "acme" }) { id } }',
        { n: name },
      )
    ).data!.createJob.id;
  const claim = async () =>
    (
      await gql<{ claimJob: { lease: string; job: { id: string } } }>(
        worker,
        'mutation { claimJob(workerId: "w", types: ["reconnect"]) { lease job { id } } }',
      )
    ).data!.claimJob;

  const finishes = await create('finishes while away');
  const finishesLease = (await claim()).lease;
  const keepsRunning = await create('keeps running');
  const keepsRunningLease = (await claim()).lease;
  const idle = await create('idle');
  const deleted = await create('deleted while away');

  // What the client shows: the snippet's show(), as the README comment says.
  const list = new Map<string, string>();
  const show = (job: Shown) => {
    if (job.removed || !ACTIVE.includes(job.status)) list.delete(job.id);
    else list.set(job.id, job.status);
  };
  const errors: unknown[] = [];
  let closes = 0;
  let connected = 0;
  const createReadmeClient = (options: ClientOptions): Client => {
    const client = createClient({ ...options, url: wsUrl(server.url), webSocketImpl: WebSocket });
    client.on('closed', () => (closes += 1));
    client.on('connected', () => (connected += 1));
    clients.push(client);
    return client;
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's code, run as written
  const run = new Function('createClient', 'getToken', 'show', 'console', readmeSnippet()) as (...args: unknown[]) => void;
  run(createReadmeClient, async () => admin, show, { error: (error: unknown) => errors.push(error) });

  await eventually(
    () => [...list.keys()].sort(),
    (ids) => ids.join() === [finishes, keepsRunning, idle, deleted].sort().join(),
    15_000,
    'the first snapshot',
  );

  server.process.kill('SIGTERM');
  await server.exited;
  const stoppedAt = Date.now();
  await gql(worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: finishesLease });
  await gql(admin, `mutation { cancelJob(id: "${deleted}") { status } }`);
  await gql(admin, `mutation { deleteJob(id: "${deleted}") }`);
  const joined = await create('created while away');
  // Down for longer than graphql-ws' defaults survive, with reconnects refused meanwhile.
  await eventually(
    () => ({ closes, down: Date.now() - stoppedAt }),
    (state) => state.closes >= 3 && state.down > 2_500,
    30_000,
    'refused reconnects',
  );
  server = await startServerProcess(suite.db.url, { PORT: String(port) });

  const truth = [keepsRunning, idle, joined].sort().join();
  await eventually(
    () => [...list.keys()].sort(),
    (ids) => ids.join() === truth,
    30_000,
    'the list to be right after the reconnect',
  );
  expect(list.get(keepsRunning)).toBe('RUNNING');
  expect(list.get(idle)).toBe('PENDING');
  expect(connected).toBe(2);
  expect(errors).toEqual([]);

  // Live again: a job finishing now leaves the list.
  await gql(worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', { l: keepsRunningLease });
  await eventually(
    () => list.has(keepsRunning),
    (has) => !has,
    10_000,
    'the live change after the reconnect',
  );
});
