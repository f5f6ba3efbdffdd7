/**
 * npm run bench:transitions -- [--concurrency 2,4,8,16] [--duration 8] [--jobs 100000]
 *                               [--variants per-transaction,batched,floor] [--repetitions 1]
 *
 * Claims + completions per second across two instances on one Postgres: two processes, each
 * with a pool, a LISTEN connection and (where the database relays) a ThreadedRelay, as an API
 * instance has, each running `concurrency` loops that claim the next job and complete it with
 * the API's own statements (src/workers/sql/claim-job.ts, src/jobs/transitions/change-jobs.ts,
 * their triggers included). Three databases, measured interleaved at every concurrency:
 *
 * - per-transaction: the notification triggers as they were before the change relay (every
 *   transition notified on its jobs, leases, timeline, alert-event and notification channels);
 * - batched: as migrated now (the triggers record into the outbox, the relays notify in batches);
 * - floor: the same statements with no notification trigger at all.
 *
 * Prints transitions per second, p50/p99 latency per transition, the ratio to the floor, the
 * job ids the instances heard notified (every transition must be heard, batched or not), and
 * Postgres commits. DATABASE_URL must name a server where databases can be created. Figures,
 * never assertions: targets are printed beside them.
 */
import { benchOptions, integerListOption, integerOption, UsageError } from './support/options';
import { loadAverage, print, runBench } from './support/output';
import { INSTANCES, measure, type Window } from './transitions/measure';
import { report } from './transitions/report';
import { prepare, type Variant, VARIANTS } from './transitions/variant-databases';

interface Options {
  readonly concurrency: readonly number[];
  readonly duration: number;
  readonly jobs: number;
  readonly variants: readonly Variant[];
  readonly repetitions: number;
}

function parseOptions(): Options {
  const values = benchOptions({
    concurrency: { type: 'string', default: '2,4,8,16' },
    duration: { type: 'string', default: '8' },
    jobs: { type: 'string', default: '100000' },
    variants: { type: 'string', default: VARIANTS.join(',') },
    repetitions: { type: 'string', default: '1' },
  });
  return {
    concurrency: integerListOption('concurrency', values.concurrency, 1),
    duration: integerOption('duration', values.duration, 1),
    jobs: integerOption('jobs', values.jobs, 1),
    variants: (values.variants ?? '').split(',').map((name) => {
      const variant = VARIANTS.find((v) => v === name.trim());
      if (variant === undefined) throw new UsageError(`--variants takes ${VARIANTS.join(', ')}; got "${name}"`);
      return variant;
    }),
    repetitions: integerOption('repetitions', values.repetitions, 1),
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (process.env['DATABASE_URL'] === undefined)
    throw new Error('bench:transitions needs DATABASE_URL (a server where it may create its three databases)');
  print(
    `bench:transitions  node ${process.version}, ${INSTANCES} instances, concurrency per instance ${options.concurrency.join(', ')}, ` +
      `${options.duration} s windows, variants ${options.variants.join(', ')}, load average ${loadAverage()}`,
  );
  const urls = new Map<Variant, string>();
  for (const variant of options.variants) {
    urls.set(variant, await prepare(variant, options.jobs));
    print(`database for ${variant}: ${options.jobs.toLocaleString('en-US')} pending jobs`);
  }
  const windows: Window[] = [];
  for (let repetition = 0; repetition < options.repetitions; repetition += 1) {
    for (const concurrency of options.concurrency) {
      for (const variant of options.variants) {
        const window = await measure(repetition, variant, urls.get(variant) as string, concurrency, options.duration);
        windows.push(window);
        print(
          `  ${variant} x${concurrency}: ${Math.round(window.transitions / window.seconds).toLocaleString('en-US')} transitions/s, ` +
            `p99 ${window.latency.percentile(0.99)} ms, load ${window.load.toFixed(1)}` +
            (window.errors > 0 ? `, ${window.errors} errors (${window.lastError.slice(0, 200)})` : '') +
            (window.empty > 0 ? `, ${window.empty} claims found no job (seed more with --jobs)` : ''),
        );
      }
    }
  }
  report(windows, options.variants);
}

runBench('bench:transitions', main);
