/**
 * The floor of bench:subscriptions: a bare graphql-ws server with the least schema that answers
 * the clients' document — `subscription { jobProgress(id: ID!): JobProgressMessage! }` with the
 * same shape of fields — and nothing else: no auth, no database, no permissions, no coalescing.
 * Every BENCH_INTERVAL_MS it makes one message per job, `updatedAt` = now, and pushes it to
 * the async iterator of each subscription of that job; graphql-ws runs its normal path for each
 * (default parse and validation on subscribe, then execute per event, stringify, send). Like the
 * API, a subscription first gets the job's current state.
 *
 * Environment: PORT, BENCH_JOB_IDS (comma-separated), BENCH_INTERVAL_MS (200).
 * GET /healthz answers 200 once it listens; POST /pause and /resume stop and restart the
 * messages (the runner reads memory with the subscribers held but idle, as it does for the
 * API by stopping its worker); WebSockets on /graphql.
 */
import { createServer } from 'node:http';
import { GraphQLFloat, GraphQLID, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLBoolean } from 'graphql';
import { handleProtocols } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

interface Message {
  readonly id: string;
  readonly status: string;
  readonly updatedAt: string;
  readonly progress: { readonly done: number; readonly percent: number; readonly updatedAt: string };
}

/** One subscription's events: a queue and a waiting consumer, as an async iterator. */
class Feed implements AsyncIterableIterator<Message> {
  private readonly queue: Message[] = [];
  private waiter: ((result: IteratorResult<Message>) => void) | undefined;
  private done = false;

  constructor(private readonly onClose: () => void) {}

  push(message: Message): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter({ value: message, done: false });
    } else {
      this.queue.push(message);
    }
  }

  next(): Promise<IteratorResult<Message>> {
    const message = this.queue.shift();
    if (message !== undefined) return Promise.resolve({ value: message, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<Message>> {
    if (!this.done) {
      this.done = true;
      this.queue.length = 0;
      this.waiter?.({ value: undefined, done: true });
      this.waiter = undefined;
      this.onClose();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const jobIds = required('BENCH_JOB_IDS').split(',');
  const intervalMs = Number(process.env['BENCH_INTERVAL_MS'] ?? 200);
  const feeds = new Map<string, Set<Feed>>();
  let tick = 0;
  let paused = false;
  const messageFor = (id: string, at: string): Message => ({
    id,
    status: 'RUNNING',
    updatedAt: at,
    progress: { done: tick, percent: Math.min(100, tick / 100), updatedAt: at },
  });

  const progress = new GraphQLObjectType({
    name: 'FloorProgress',
    fields: { done: { type: new GraphQLNonNull(GraphQLFloat) }, percent: { type: GraphQLFloat }, updatedAt: { type: GraphQLString } },
  });
  const message = new GraphQLObjectType({
    name: 'JobProgressMessage',
    fields: {
      id: { type: new GraphQLNonNull(GraphQLID) },
      status: { type: new GraphQLNonNull(GraphQLString) },
      updatedAt: { type: new GraphQLNonNull(GraphQLString) },
      progress: { type: new GraphQLNonNull(progress) },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean, resolve: () => true } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        jobProgress: {
          type: new GraphQLNonNull(message),
          args: { id: { type: new GraphQLNonNull(GraphQLID) } },
          subscribe: (_root: unknown, args: { id: string }) => {
            let set = feeds.get(args.id);
            if (set === undefined) {
              set = new Set();
              feeds.set(args.id, set);
            }
            const members = set;
            const feed = new Feed(() => members.delete(feed));
            members.add(feed);
            feed.push(messageFor(args.id, new Date().toISOString()));
            return feed;
          },
          resolve: (payload: unknown) => payload,
        },
      },
    }),
  });

  const httpServer = createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    else if (req.method === 'POST' && (req.url === '/pause' || req.url === '/resume')) {
      paused = req.url === '/pause';
      res.writeHead(204).end();
    } else res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 64 * 1024, handleProtocols });
  // The API's keep-alive (12 s) and connection_init timeout (5 s), nothing else.
  const disposable = useServer({ schema, connectionInitWaitTimeout: 5_000 }, wss, 12_000);

  const timer = setInterval(() => {
    if (paused) return;
    tick += 1;
    const at = new Date().toISOString();
    for (const id of jobIds) {
      const set = feeds.get(id);
      if (set === undefined || set.size === 0) continue;
      const payload = messageFor(id, at);
      for (const feed of set) feed.push(payload);
    }
  }, intervalMs);

  await new Promise<void>((resolve) => httpServer.listen(Number(required('PORT')), '127.0.0.1', resolve));

  const stop = () => {
    clearInterval(timer);
    void Promise.resolve(disposable.dispose()).finally(() => {
      httpServer.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `subscriptions floor: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
