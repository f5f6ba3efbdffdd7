/**
 * npm run bench:metrics [-- --iterations 200000 --duration 10 --baseline ../other-checkout]
 *
 * What the metrics cost a request. First the hooks alone, in this process: Apollo's lifecycle
 * through the metrics plugin against a floor plugin of the same shape that records nothing, and
 * the per-row fan-out hook, in CPU time. Then a real API (dist/src/main.js) answering `query Me { me { id } }`
 * under autocannon, for the CPU one request costs it: the hook's cost is printed as a share of
 * that. With --baseline (another checkout, built: say main before the metrics), both APIs are
 * measured in turn, three rounds each, so a machine busy with other work weighs on both alike.
 * Figures, never assertions.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pino from 'pino';
import { graphqlMetricsPlugin } from '../src/metrics/graphql-metrics';
import { recordFanOut } from '../src/metrics/hooks';
import { API_NODE_FLAGS, apiEnv, signToken, startServer } from './support/api-process';
import { openBenchDatabase } from './support/bench-db';
import { runLoad } from './support/load';
import { benchOptions, integerOption } from './support/options';
import { print, runBench } from './support/output';
import { stopAll } from './support/processes';
import { cpuSeconds, median } from './support/proc-stats';

type Lifecycle = { requestDidStart?: (context: never) => Promise<{ willSendResponse?: (context: never) => Promise<void> } | void> };

/** A request context as Apollo hands it to willSendResponse (what the plugin reads). */
const CONTEXT = {
  operation: { operation: 'query', name: { value: 'Me' } },
  operationName: 'Me',
  document: undefined,
  request: {},
  response: { body: { kind: 'single', singleResult: { data: { me: { id: 'admin' } } } } },
} as never;

/** CPU nanoseconds (not wall time: the machine may be shared) per call of `work`. */
function cpuNanos(): () => number {
  const started = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(started);
    return (used.user + used.system) * 1000;
  };
}

/** CPU nanoseconds per request through `plugin`'s requestDidStart and willSendResponse, best of five rounds. */
async function perRequest(plugin: Lifecycle, iterations: number): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 5; round += 1) {
    const elapsed = cpuNanos();
    for (let i = 0; i < iterations; i += 1) {
      const hooks = await plugin.requestDidStart?.(CONTEXT);
      await hooks?.willSendResponse?.(CONTEXT);
    }
    best = Math.min(best, elapsed() / iterations);
  }
  return best;
}

function fanOutPerRow(iterations: number): number {
  const rows = Array.from({ length: 100 }, () => ({ updated_at: new Date(Date.now() - 5) }));
  let best = Infinity;
  for (let round = 0; round < 5; round += 1) {
    const elapsed = cpuNanos();
    for (let i = 0; i < iterations / 100; i += 1) recordFanOut(rows, undefined);
    best = Math.min(best, elapsed() / iterations);
  }
  return best;
}

async function apiCpuPerRequest(main: string, seconds: number): Promise<{ requests: number; cpuMicros: number; p50: number }> {
  const database = await openBenchDatabase(pino({ level: 'warn' }), 'jw_bench_metrics');
  const url = database.url;
  await database.close();
  const secret = randomBytes(32).toString('hex');
  const { child: api, base } = await startServer('api', [...API_NODE_FLAGS, main], {
    ...process.env,
    ...apiEnv(url, secret),
    METRICS_TOKEN: randomBytes(32).toString('hex'),
    BOOTSTRAP_ADMINS: 'admin',
  });
  const bearer = await signToken(secret, 'admin', '1h');
  const options = {
    url: `${base}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query: 'query Me { me { id } }' }),
    connections: 8,
  };
  await runLoad({ ...options, duration: 2 }); // warm-up
  const pid = api.process.pid as number;
  const cpuBefore = cpuSeconds(pid);
  const result = await runLoad({ ...options, duration: seconds });
  const cpu = cpuSeconds(pid) - cpuBefore;
  await api.stop();
  if (result.non2xx > 0 || result.errors > 0) print(`  (${result.non2xx} non-2xx answers, ${result.errors} errors)`);
  return { requests: result.requests, cpuMicros: (cpu * 1e6) / result.requests, p50: result.p50 };
}

async function main(): Promise<void> {
  const values = benchOptions({
    iterations: { type: 'string', default: '200000' },
    duration: { type: 'string', default: '10' },
    baseline: { type: 'string' },
  });
  const iterations = integerOption('iterations', values.iterations, 100);
  const duration = integerOption('duration', values.duration, 1);

  const floor: Lifecycle = { requestDidStart: async () => ({ willSendResponse: async () => undefined }) };
  const metrics = graphqlMetricsPlugin() as unknown as Lifecycle;
  await perRequest(floor, iterations / 10);
  await perRequest(metrics, iterations / 10);
  const floorNs = await perRequest(floor, iterations);
  const metricsNs = await perRequest(metrics, iterations);
  const hookNs = Math.max(0, metricsNs - floorNs);
  print('hooks, in process (CPU time, best of 5 rounds)');
  print(`  floor plugin (records nothing)   ${floorNs.toFixed(0)} ns/request`);
  print(
    `  metrics plugin                   ${metricsNs.toFixed(0)} ns/request  (${(metricsNs / floorNs).toFixed(2)}x the floor, +${hookNs.toFixed(0)} ns)`,
  );
  print(`  fan-out lag hook                 ${fanOutPerRow(iterations).toFixed(0)} ns/row`);

  print(`API, query Me { me { id } } for ${values.duration} s a round, 8 connections (NODE_ENV=production)`);
  const rounds = values.baseline === undefined ? 1 : 3;
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const api = await apiCpuPerRequest('dist/src/main.js', duration);
    print(`  this checkout: ${api.requests} requests, p50 ${api.p50} ms, ${api.cpuMicros.toFixed(0)} µs of API CPU per request`);
    ours.push(api.cpuMicros);
    if (values.baseline === undefined) continue;
    const base = await apiCpuPerRequest(path.resolve(values.baseline, 'dist/src/main.js'), duration);
    print(`  baseline:      ${base.requests} requests, p50 ${base.p50} ms, ${base.cpuMicros.toFixed(0)} µs of API CPU per request`);
    theirs.push(base.cpuMicros);
  }
  const cpu = median(ours);
  print(`  the metrics hook is ${((hookNs / 1000 / cpu) * 100).toFixed(2)} % of a request's CPU (target: under 1 %)`);
  if (theirs.length > 0)
    print(
      `  CPU per request, median of ${rounds}: ${cpu.toFixed(0)} µs here, ${median(theirs).toFixed(0)} µs baseline (${(cpu / median(theirs)).toFixed(2)}x)`,
    );
}

runBench('bench:metrics', main, stopAll);
