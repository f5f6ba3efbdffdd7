import { Counter, Registry } from 'prom-client';

/**
 * The process's metrics: Node's own (CPU, memory, event-loop delay, GC: runtime-metrics.ts, while
 * a server runs) and the events that domains record through hooks.ts. A process runs one server,
 * so per process is per instance; each server adds the state it reads at scrape time
 * (instance-metrics.ts) in a registry of its own.
 */
export const processRegistry = new Registry();

/** Bucket bounds, in seconds, for work that normally takes milliseconds. */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A counter whose value is a running total kept elsewhere (a `stats` object), read at scrape
 * time: nothing is added on the hot path.
 */
export function totalCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * A label value taken from clients (an operation name) must not grow the number of series
 * without bound: the first `max` distinct valid names are kept, later ones count as `other`.
 */
export function boundedLabel(max: number, valid: RegExp): (value: string | null | undefined, absent: string) => string {
  const seen = new Set<string>();
  return (value, absent) => {
    if (value === null || value === undefined || value === '') return absent;
    if (seen.has(value)) return value;
    if (seen.size >= max || !valid.test(value)) return 'other';
    seen.add(value);
    return value;
  };
}
