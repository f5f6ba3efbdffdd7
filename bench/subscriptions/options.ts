/** bench:subscriptions' options (see bench/subscriptions.ts for what they measure). */
import path from 'node:path';
import { benchOptions, integerListOption, integerOption, UsageError } from '../support/options';

export interface Options {
  readonly sizes: readonly number[];
  readonly jobs: number;
  readonly duration: number;
  readonly warmup: number;
  readonly interval: number;
  readonly batch: number;
  readonly clientProcs: number;
  readonly profile: boolean;
  /** Which servers to measure (both by default: the API/floor ratios need both). */
  readonly servers: ReadonlyArray<'API' | 'floor'>;
  /** Seconds to wait, messages stopped, before reading the memory with N subscribed. */
  readonly settle: number;
  /** Heap snapshots of both servers before and with N subscribed, and what grew (slow; spoils the RSS figures). */
  readonly heapSnapshots: boolean;
  /** The API's entry point (a candidate build, say); dist/src/main.js by default. */
  readonly apiMain: string;
}

export function parseOptions(): Options {
  const values = benchOptions({
    sizes: { type: 'string', default: '1000,2000,5000' },
    jobs: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    interval: { type: 'string', default: '200' },
    batch: { type: 'string', default: '200' },
    'client-procs': { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    'heap-snapshots': { type: 'boolean', default: false },
    servers: { type: 'string', default: 'api,floor' },
    settle: { type: 'string', default: '2' },
    'api-main': { type: 'string', default: path.resolve(__dirname, '../../src/main.js') },
  });
  return {
    sizes: integerListOption('sizes', values.sizes, 1),
    jobs: integerOption('jobs', values.jobs, 1),
    duration: integerOption('duration', values.duration, 1),
    warmup: integerOption('warmup', values.warmup, 0),
    interval: integerOption('interval', values.interval, 10),
    batch: integerOption('batch', values.batch, 1),
    clientProcs: integerOption('client-procs', values['client-procs'], 1),
    profile: values.profile === true,
    heapSnapshots: values['heap-snapshots'] === true,
    servers: (values.servers ?? '').split(',').map((name) => {
      const server = name.trim().toLowerCase();
      if (server !== 'api' && server !== 'floor') throw new UsageError(`--servers takes api and/or floor, got "${name}"`);
      return server === 'api' ? ('API' as const) : ('floor' as const);
    }),
    settle: integerOption('settle', values.settle, 0),
    apiMain: path.resolve(values['api-main'] ?? path.resolve(__dirname, '../../src/main.js')),
  };
}
