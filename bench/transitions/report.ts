/** bench:transitions' results: the table of every window, then PASS/MISS against the target. */
import { check, print } from '../support/output';
import { formatTable } from '../support/table';
import { INSTANCES, type Window } from './measure';
import type { Variant } from './variant-databases';

const TARGET_PER_SECOND = 2_000;

export function report(windows: readonly Window[], variants: readonly Variant[]): void {
  print();
  print(
    `Results: claims + completions per second, ${INSTANCES} instances x concurrency loops; ratio to the floor (no notifications) of the same concurrency and repetition`,
  );
  print();
  const floorOf = (w: Window) =>
    windows.find((f) => f.variant === 'floor' && f.concurrency === w.concurrency && f.repetition === w.repetition);
  print(
    formatTable(
      [
        'loops',
        'variant',
        'transitions/s',
        'p50 ms',
        'p99 ms',
        '/floor',
        'ids heard/s',
        'heard / transitions',
        'NOTIFY msgs/s',
        'relay drains/s',
        'commits/s',
        'node CPU ms/transition',
        'load',
      ],
      windows.map((w) => {
        const rate = w.transitions / w.seconds;
        const floor = floorOf(w);
        return [
          String(w.concurrency * INSTANCES),
          w.variant,
          Math.round(rate).toLocaleString('en-US'),
          String(w.latency.percentile(0.5)),
          String(w.latency.percentile(0.99)),
          floor === undefined || w.variant === 'floor' ? '' : `${(rate / (floor.transitions / floor.seconds)).toFixed(2)}x`,
          w.variant === 'floor' ? '' : Math.round(w.notifiedIds / w.seconds).toLocaleString('en-US'),
          w.variant === 'floor' ? '' : (w.notifiedIds / Math.max(1, w.transitions)).toFixed(2),
          w.variant === 'floor' ? '' : Math.round(w.notifications / w.seconds).toLocaleString('en-US'),
          w.variant === 'batched' ? Math.round(w.relayDrains / w.seconds).toLocaleString('en-US') : '',
          Math.round(w.commits).toLocaleString('en-US'),
          (w.cpuMs / Math.max(1, w.transitions)).toFixed(2),
          w.load.toFixed(1),
        ];
      }),
    ),
  );
  print();
  print(
    '"ids heard / transitions": job ids the instances heard notified per transition (1.00 = every change heard once; the relay drops repeats of a job within a batch).',
  );
  print();
  print('Targets');
  for (const variant of variants) {
    if (variant === 'floor') continue;
    const best = Math.max(...windows.filter((w) => w.variant === variant).map((w) => w.transitions / w.seconds));
    check(
      best >= TARGET_PER_SECOND,
      `${variant}: ${Math.round(best).toLocaleString('en-US')} claims + completions per second at best (target: not bending before ${TARGET_PER_SECOND.toLocaleString('en-US')})`,
    );
  }
}
