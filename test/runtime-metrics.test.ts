import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { processRegistry } from '../src/metrics/registry';
import { useRuntimeMetrics } from '../src/metrics/runtime-metrics';
import { eventually } from './support/eventually';
import { scrape } from './support/prometheus';
import { startTestServer } from './support/test-server';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * Node's own figures run while a server does, and stop with the last one. prom-client's defaults
 * could not be stopped: a process that started and stopped servers kept an event-loop histogram
 * sampling and a GC observer registered for each, and with them all they reached.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const NODE_FIGURES = [
  'nodejs_gc_duration_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'process_cpu_user_seconds_total',
  'nodejs_heap_size_used_bytes',
];
/** What a scrape shows of them (a histogram as its buckets, sum and count). */
const SCRAPED = NODE_FIGURES.map((name) => (name === 'nodejs_gc_duration_seconds' ? `${name}_count` : name));

test('two servers in one process share Node’s figures; they go when the last one stops', async () => {
  const first = await startTestServer(db);
  const second = await startTestServer(db);
  try {
    gc(); // counted by the GC figure
    await eventually(
      () => scrape(second.url),
      (scraped) => SCRAPED.every((name) => scraped.has(name)) && scraped.sum('nodejs_gc_duration_seconds_count') > 0,
      10_000,
      'Node’s figures',
    );
  } finally {
    await first.close();
  }
  // The second still runs: the figures stay.
  try {
    for (const name of NODE_FIGURES) expect(processRegistry.getSingleMetric(name)).toBeDefined();
  } finally {
    await second.close();
  }
  for (const name of NODE_FIGURES) expect(processRegistry.getSingleMetric(name)).toBeUndefined();
});

test('once released, nothing keeps the collectors alive', async () => {
  const release = useRuntimeMetrics();
  const histogram = new WeakRef(processRegistry.getSingleMetric('nodejs_gc_duration_seconds')!);
  const lag = new WeakRef(processRegistry.getSingleMetric('nodejs_eventloop_lag_seconds')!);
  release();
  release(); // a second release of the same share changes nothing
  expect(processRegistry.getSingleMetric('nodejs_gc_duration_seconds')).toBeUndefined();
  await eventually(
    () => {
      gc();
      // Whether each is gone (not the objects: eventually holds the last value while it waits).
      return [histogram.deref() === undefined, lag.deref() === undefined];
    },
    (gone) => gone.every(Boolean),
    10_000,
    'the collectors to be collected',
  );

  // And they start again for the next server.
  const again = useRuntimeMetrics();
  expect(processRegistry.getSingleMetric('nodejs_gc_duration_seconds')).toBeDefined();
  again();
});
