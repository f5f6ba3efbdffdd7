import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { apiSuite } from './support/api-suite';
import { insertJobs } from './support/fixtures';

/**
 * Real worker processes (the SDK in a child process), crashing and finishing for real. Time is
 * never waited out: heartbeats are backdated and the daemon's tick() is called.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '50' } });
let relay: Relay;
const children: ChildProcessWithoutNullStreams[] = [];
suite.disposeFirst(async () => {
  for (const child of children) child.kill('SIGKILL');
  await relay?.close();
});

beforeAll(async () => {
  relay = await startRelay(suite.server.url);
});

/**
 * Between the worker processes and the server: it forwards each call and knows which have not
 * been answered by the server yet. A worker killed with SIGKILL may have sent a heartbeat or a
 * report the server has not run yet; `quiet()` waits until every call that reached the relay
 * has been run by the server, and every connection of the dead worker is closed.
 */
interface Relay {
  readonly url: string;
  quiet(): Promise<void>;
  close(): Promise<void>;
}

async function startRelay(target: string): Promise<Relay> {
  let open = 0;
  let connections = 0;
  let waiters: Array<() => void> = [];
  const settle = () => {
    if (open !== 0 || connections !== 0) return;
    for (const wake of waiters.splice(0)) wake();
  };
  const relayServer: Server = createServer((request, response) => {
    open += 1;
    let forwarded = false;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Cut before the whole call came: the server never sees it.
    request.on('close', () => {
      if (forwarded) return;
      forwarded = true;
      open -= 1;
      settle();
    });
    request.on('end', () => {
      forwarded = true;
      fetch(target, {
        method: request.method ?? 'POST',
        headers: { 'content-type': 'application/json', authorization: request.headers.authorization ?? '' },
        body: Buffer.concat(chunks),
      })
        .then(async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          response.end(body);
        })
        .catch(() => response.destroy())
        .finally(() => {
          open -= 1;
          settle();
        });
    });
  });
  relayServer.on('connection', (socket) => {
    connections += 1;
    socket.on('close', () => {
      connections -= 1;
      settle();
    });
  });
  await new Promise<void>((resolve) => relayServer.listen(0, '127.0.0.1', resolve));
  const { port } = relayServer.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    quiet: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        waiters = [];
        relayServer.closeAllConnections();
        relayServer.close(() => resolve());
      }),
  };
}

interface WorkerEvent {
  event: string;
  jobId?: string;
  lease?: string;
}

/** Starts a worker process and answers a function that waits for one of its events. */
function startWorker(types: string, mode: 'hang' | 'complete') {
  const root = path.resolve(__dirname, '..');
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'test/support/worker-process.ts'], {
    cwd: root,
    env: { ...process.env, JOBWATCH_URL: relay.url, JOBWATCH_TOKEN: suite.worker, WORKER_TYPES: types, WORKER_MODE: mode },
  });
  children.push(child);
  const events: WorkerEvent[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as WorkerEvent);
    } catch {
      return;
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (name: string, timeoutMs = 20_000): Promise<WorkerEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find((event) => event.event === name);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`worker never said ${name}: ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  };
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, next, exited };
}

async function jobRow(id: string) {
  const { rows } = await suite.db.pool.query('SELECT status, progress_done, error_message, lease_token FROM jobs WHERE id = $1', [id]);
  return rows[0] as { status: string; progress_done: number; error_message: string | null; lease_token: string | null };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a worker killed with SIGKILL mid-job ends ABENDED once its heartbeat is too old, and its late report is refused', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ type: 'crashy' }]);
  const worker = startWorker('crashy', 'hang');
  const claimed = await worker.next('claimed');
  expect(claimed.jobId).toBe(job!.id);
  await worker.next('reported');
  // Killed once some of its progress is stored (a report it sent may still be on its way: the
  // state to compare the late report with is the one at the abend, below).
  const before = await until(
    async () => {
      await suite.server.services.progress.flush();
      return jobRow(job!.id);
    },
    (value) => value.progress_done > 0,
  );
  expect(before.progress_done).toBeGreaterThan(0);
  worker.child.kill('SIGKILL');
  expect(await worker.exited).toBeNull();
  // Its last heartbeat, had it not been run yet, would undo the backdating below.
  await relay.quiet();
  expect((await jobRow(job!.id)).status).toBe('RUNNING');

  // A fresh heartbeat is not lost: nothing happens.
  expect(await suite.server.services.daemon.tick()).toMatchObject({ abended: 0 });
  await suite.db.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`, [job!.id]);
  expect(await suite.server.services.daemon.tick()).toMatchObject({ abended: 1 });
  await suite.server.services.progress.flush();
  const after = await jobRow(job!.id);
  expect(after).toMatchObject({ status: 'ABENDED', lease_token: null });
  expect(after.error_message).toMatch(/stopped heartbeating/);
  expect(after.progress_done).toBeGreaterThanOrEqual(before.progress_done);

  // The dead worker's last words, arriving late, change nothing.
  const late = await suite.server.gql<{ reportProgress: number }>(
    suite.worker,
    'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
    {
      r: [{ lease: claimed.lease, done: 999_999, message: 'late' }],
    },
  );
  expect(late.data?.reportProgress).toBe(0);
  const complete = await suite.server.gql(suite.worker, 'mutation($l: String!) { completeJob(lease: $l) { status } }', {
    l: claimed.lease,
  });
  expect(complete.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEASE_LOST', status: 'ABENDED' });
  await suite.server.services.progress.flush();
  expect(await jobRow(job!.id)).toMatchObject({ status: 'ABENDED', progress_done: after.progress_done });
  const { rows } = await suite.db.pool.query(`SELECT kind, actor_kind FROM timeline_events WHERE job_id = $1 ORDER BY id`, [job!.id]);
  expect(rows.at(-1)).toEqual({ kind: 'ABENDED', actor_kind: 'SYSTEM' });
});

test('a worker process runs a job to the end', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ type: 'finishing' }]);
  const worker = startWorker('finishing', 'complete');
  await worker.next('claimed');
  const row = await until(
    () => jobRow(job!.id),
    (value) => value.status === 'SUCCEEDED',
  );
  expect(row.status).toBe('SUCCEEDED');
  expect(row.progress_done).toBeGreaterThanOrEqual(10);
  worker.child.kill('SIGTERM');
  await worker.exited;
});

test('a cancel reaches the worker process through its heartbeat; it stops and confirms', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ type: 'cancellable' }]);
  const worker = startWorker('cancellable', 'hang');
  await worker.next('reported');
  const response = await suite.server.gql<{ cancelJob: { status: string } }>(
    suite.admin,
    `mutation { cancelJob(id: "${job!.id}") { status } }`,
  );
  expect(response.data?.cancelJob.status).toBe('CANCELLING');
  const row = await until(
    () => jobRow(job!.id),
    (value) => value.status === 'CANCELLED',
  );
  expect(row.status).toBe('CANCELLED');
  const { rows } = await suite.db.pool.query(
    `SELECT kind, actor_kind FROM timeline_events WHERE job_id = $1 AND kind LIKE 'CANCEL%' ORDER BY id`,
    [job!.id],
  );
  expect(rows).toEqual([
    { kind: 'CANCEL_REQUESTED', actor_kind: 'USER' },
    { kind: 'CANCELLED', actor_kind: 'WORKER' },
  ]);
  worker.child.kill('SIGTERM');
  await worker.exited;
});
