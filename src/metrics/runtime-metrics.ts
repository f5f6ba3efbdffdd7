import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram, type PerformanceEntry } from 'node:perf_hooks';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { processRegistry } from './registry';

/**
 * Node's own figures (CPU, memory, handles, event-loop delay, GC), under prom-client's default
 * names, started with the first server of the process and stopped with its last.
 *
 * prom-client's `collectDefaultMetrics` cannot be stopped: its event-loop histogram samples every
 * 10 ms and its GC observer stays registered with Node for the life of the process, holding its
 * callback and all that callback reaches. A process that starts and stops servers (the tests do,
 * each file in a module registry of its own) kept every one of them alive: 17 MB per test file.
 * The figures prom-client reads at scrape time come from its own modules; the two that run all
 * the time are here, with a stop.
 */
type DefaultMetric = ((registry: Registry, config?: object) => void) & { readonly metricNames: readonly string[] };

/** prom-client's default metrics that read the process when scraped and keep nothing running. */
const SCRAPED: readonly DefaultMetric[] = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- prom-client's own modules, one per default metric
].map((name) => require(`prom-client/lib/metrics/${name}`) as DefaultMetric);

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** A collector that runs all the time: the metrics it registered, and what stops it. */
interface Running {
  readonly names: readonly string[];
  stop(): void;
}

let users = 0;
let stop: (() => void) | undefined;

/** Starts Node's figures in the process's registry for one more server; the function returned ends its share. */
export function useRuntimeMetrics(): () => void {
  users += 1;
  stop ??= startRuntimeMetrics(processRegistry);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users -= 1;
    if (users === 0) {
      stop?.();
      stop = undefined;
    }
  };
}

function startRuntimeMetrics(registry: Registry): () => void {
  const names: string[] = [];
  for (const metric of SCRAPED) {
    metric(registry);
    names.push(...metric.metricNames);
  }
  const running = [eventLoopDelay(registry), gcDurations(registry)];
  for (const collector of running) names.push(...collector.names);
  return () => {
    for (const collector of running) collector.stop();
    for (const name of names) registry.removeSingleMetric(name);
  };
}

/** The event loop's delay: the histogram Node samples every 10 ms, read and reset at each scrape. */
function eventLoopDelay(registry: Registry): Running {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const statistics: ReadonlyArray<readonly [string, string, (h: IntervalHistogram) => number]> = [
    ['min', 'The minimum recorded event loop delay.', (h) => h.min],
    ['max', 'The maximum recorded event loop delay.', (h) => h.max],
    ['mean', 'The mean of the recorded event loop delays.', (h) => h.mean],
    ['stddev', 'The standard deviation of the recorded event loop delays.', (h) => h.stddev],
    ['p50', 'The 50th percentile of the recorded event loop delays.', (h) => h.percentile(50)],
    ['p90', 'The 90th percentile of the recorded event loop delays.', (h) => h.percentile(90)],
    ['p99', 'The 99th percentile of the recorded event loop delays.', (h) => h.percentile(99)],
  ];
  const gauges = statistics.map(([statistic, help, read]) => ({
    read,
    gauge: new Gauge({ name: `nodejs_eventloop_lag_${statistic}_seconds`, help, registers: [registry] }),
  }));
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers: [registry],
    // The one metric whose collect sets them all (the histogram is reset once per scrape).
    collect() {
      const started = process.hrtime.bigint();
      setImmediate(() => this.set(Number(process.hrtime.bigint() - started) / 1e9));
      for (const { gauge, read } of gauges) gauge.set(read(histogram) / 1e9);
      histogram.reset();
    },
  });
  return {
    names: ['nodejs_eventloop_lag_seconds', ...statistics.map(([statistic]) => `nodejs_eventloop_lag_${statistic}_seconds`)],
    stop: () => histogram.disable(),
  };
}

/** Garbage collections by kind and duration, as Node reports them. */
function gcDurations(registry: Registry): Running {
  const name = 'nodejs_gc_duration_seconds';
  const histogram = new Histogram({
    name,
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers: [registry],
  });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as PerformanceEntry & { readonly detail?: { readonly kind?: number } };
      const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
      histogram.observe({ kind }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { names: [name], stop: () => observer.disconnect() };
}
