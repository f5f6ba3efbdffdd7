/**
 * npm run bench:slow-readers [-- --stalled 200 --duration 30 --connections 4]
 *
 * What clients that stop reading cost everyone else. One API with its default slow-reader
 * limits (WS_SLOW_READER_BYTES, WS_SLOW_READER_MS); a worker reports progress on 4 jobs every
 * 100 ms; other clients ask for the first page of the list (autocannon). Measured twice, the
 * same way: quiet (nobody stalled), then with `stalled` WebSockets that subscribed to every job
 * (a snapshot of 50 jobs of 4 KB each, then every change) and stopped reading. Prints the list's
 * req/s, p50 and p99 in both windows, their ratio, and how many stalled sockets the server closed
 * (4413) and when (WS_SLOW_READER_BYTES and WS_SLOW_READER_MS in the environment are passed to the API).
 * Target (issue 11): the list's p99 within 2x of the quiet figure.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { API_NODE_FLAGS, apiEnv, signToken, startServer } from './support/api-process';
import { grantBenchUsers, insertPendingJobs, openBenchDatabase } from './support/bench-db';
import { claimJobs, postGraphql } from './support/graphql-client';
import { runLoad, type LoadResult } from './support/load';
import { benchOptions, integerOption } from './support/options';
import { check, loadAverage, print, runBench } from './support/output';
import { stopAll } from './support/processes';
import { formatTable } from './support/table';
import { stalledSockets } from './slow-readers/stalled-sockets';

const SECRET = randomBytes(32).toString('hex');
const LIST = '{ jobs(first: 20) { nodes { id name status progress { done total } } } }';
const WATCH_ALL = 'subscription { jobUpdated(snapshot: 50) { id name status message progress { done total } } }';
const CLOSED_METRIC = 'jobwatch_ws_slow_readers_closed_total';
const METRICS_TOKEN = randomBytes(32).toString('hex');

async function closedSoFar(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const line = text.split('\n').find((row) => row.startsWith(CLOSED_METRIC));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

async function main(): Promise<void> {
  const values = benchOptions({
    stalled: { type: 'string', default: '200' },
    duration: { type: 'string', default: '30' },
    connections: { type: 'string', default: '4' },
  });
  const stalled = integerOption('stalled', values.stalled, 1);
  const seconds = integerOption('duration', values.duration, 1);
  const connections = integerOption('connections', values.connections, 1);
  const log = pino({ level: 'warn' });
  print(`bench:slow-readers  node ${process.version}, ${stalled} stalled sockets, ${seconds} s windows, ${connections} list connections`);

  const database = await openBenchDatabase(log, 'jw_bench_slow_readers', { fresh: true });
  await grantBenchUsers(database, [
    ['bench-admin', 'admin', null],
    ['bench-worker', 'worker', null],
  ]);
  await insertPendingJobs(database.pool, 50, { name: 'Slow reader job', type: 'slow', scope: 'bench/slow' });

  const { base } = await startServer('api', [...API_NODE_FLAGS, 'dist/src/main.js'], {
    ...process.env,
    ...apiEnv(database.url, SECRET),
    PROGRESS_FLUSH_MS: '100',
    METRICS_TOKEN,
  });
  const url = `${base}/graphql`;
  const admin = `Bearer ${await signToken(SECRET, 'bench-admin', '2h')}`;
  const worker = `Bearer ${await signToken(SECRET, 'bench-worker', '2h')}`;
  const leases = (await claimJobs(url, worker, 4, 'bench-slow', 'slow')).map((claim) => claim.lease);
  // Every job about 4 KB on the wire (a claim clears the message, so after it): a snapshot of 50 is some 200 KB.
  await database.pool.query(`UPDATE jobs SET message = repeat('m', 4000)`);

  // The worker: every 100 ms a report for each of its jobs, whatever else happens.
  let reporting = true;
  let done = 0;
  const reports = (async () => {
    while (reporting) {
      done += 1;
      await postGraphql(url, worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
        r: leases.map((lease) => ({ lease, done, total: 1_000_000 })),
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const list = () =>
    runLoad({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: admin },
      body: JSON.stringify({ query: LIST }),
      connections,
      duration: seconds,
    });

  await list(); // warm-up: JIT, caches, the pool
  const quiet = await list();
  print(`quiet: ${Math.round(quiet.requestsPerSecond)} req/s, p50 ${quiet.p50} ms, p99 ${quiet.p99} ms`);

  const started = Date.now();
  const sockets = await stalledSockets(url.replace(/^http/, 'ws'), admin, WATCH_ALL, stalled);
  print(`${sockets.count} sockets subscribed and stopped reading in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const closedBefore = await closedSoFar(base);
  const closedAt: number[] = [];
  const watching = setInterval(() => {
    void closedSoFar(base).then((closed) => {
      while (closedAt.length < closed - closedBefore) closedAt.push((Date.now() - started) / 1000);
    });
  }, 250);
  const stalledWindow = await list();
  clearInterval(watching);
  const closed = (await closedSoFar(base)) - closedBefore;
  reporting = false;
  await reports;
  sockets.destroy();

  const row = (name: string, result: LoadResult) => [
    name,
    String(Math.round(result.requestsPerSecond)),
    String(result.p50),
    String(result.p99),
    String(result.non2xx + result.errors + result.timeouts),
  ];
  print();
  print(
    formatTable(['window', 'list req/s', 'p50 ms', 'p99 ms', 'failed'], [row('quiet', quiet), row(`${stalled} stalled`, stalledWindow)]),
  );
  print();
  print(
    `stalled sockets closed (${CLOSED_METRIC}): ${closed} of ${stalled}` +
      (closedAt.length === 0
        ? ''
        : `, the first ${closedAt[0]!.toFixed(1)} s and the last ${closedAt.at(-1)!.toFixed(1)} s after they stopped reading`),
  );
  print(`worker reports sent: ${done}; load average ${loadAverage()}`);
  print();
  print('Targets');
  const ratio = stalledWindow.p99 / Math.max(1, quiet.p99);
  check(
    ratio <= 2,
    `the list's p99 with ${stalled} stalled sockets within 2x of the quiet figure: ${stalledWindow.p99} ms / ${quiet.p99} ms = ${ratio.toFixed(2)}x`,
  );
  print(
    `  (closing them is WS_SLOW_READER_BYTES / WS_SLOW_READER_MS's job, ${process.env['WS_SLOW_READER_BYTES'] ?? '1048576'} bytes / ${process.env['WS_SLOW_READER_MS'] ?? '10000'} ms here: ` +
      'with hundreds stalled the server coalesces what waits for them, so each falls behind slowly and may outlast the window)',
  );
  await stopAll();
  await database.close();
}

runBench('bench:slow-readers', main, stopAll);
