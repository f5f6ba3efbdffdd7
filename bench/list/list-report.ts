/** What bench:list prints once everything ran: each run, the means with their ratios, the targets, the plans. */
import type { LoadResult } from '../support/load';
import type { RunCpu } from './run-meter';
import type { BenchScenario } from './scenarios';
import { formatTable } from '../support/table';

export interface Run {
  readonly load: LoadResult;
  readonly cpu: RunCpu;
}

export interface Measured {
  readonly scenario: BenchScenario;
  readonly runs: ReadonlyArray<{ readonly api: Run; readonly floor: Run }>;
}

interface Summary {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Server (Node) CPU ms per request. */
  readonly cpu: number;
  /** Its Postgres backends' CPU ms per request. */
  readonly pg: number;
  /** Its garbage collector's pauses, ms per request (young + full); NaN without the meter. */
  readonly gc: number;
}

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
const perRequest = (seconds: number, requests: number) => (requests === 0 ? Number.NaN : (seconds * 1000) / requests);

function summarise(runs: readonly Run[]): Summary {
  return {
    rps: mean(runs.map((run) => run.load.requestsPerSecond)),
    p50: mean(runs.map((run) => run.load.p50)),
    p99: mean(runs.map((run) => run.load.p99)),
    cpu: mean(runs.map((run) => perRequest(run.cpu.server, run.load.requests))),
    pg: mean(runs.map((run) => perRequest(run.cpu.postgres, run.load.requests))),
    gc: mean(runs.map((run) => gcPerRequest(run))),
  };
}

/** GC pause ms per request of a run (young and full collections), NaN without the meter. */
const gcPerRequest = (run: Run) =>
  run.cpu.gc === undefined ? Number.NaN : perRequest((run.cpu.gc.youngMs + run.cpu.gc.fullMs) / 1000, run.load.requests);

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

export function printReport(
  print: (line?: string) => void,
  measured: readonly Measured[],
  plans: ReadonlyMap<string, readonly string[]>,
  options: { readonly connections: number; readonly duration: number },
): void {
  print();
  print(
    `Every run (${options.connections} connections, ${options.duration} s each; "gc" is the garbage collector's pauses on the main thread; "others" is the CPU the rest of the machine used meanwhile, in cores: noise when high)`,
  );
  print();
  const runRows: string[][] = [];
  for (const { scenario, runs } of measured) {
    runs.forEach(({ api, floor }, index) => {
      for (const [target, run] of [
        ['API', api],
        ['floor', floor],
      ] as const) {
        runRows.push([
          target === 'API' ? `(${scenario.id}) run ${index + 1}` : '',
          target,
          fixed(run.load.requestsPerSecond),
          fixed(run.load.p50, 2),
          fixed(run.load.p99, 2),
          fixed(perRequest(run.cpu.server, run.load.requests), 3),
          fixed(perRequest(run.cpu.postgres, run.load.requests), 3),
          fixed(gcPerRequest(run), 3),
          fixed(run.cpu.others / run.cpu.seconds, 2),
          String(run.load.non2xx + run.load.errors + run.load.timeouts),
        ]);
      }
    });
  }
  print(
    formatTable(['scenario', 'target', 'req/s', 'p50 ms', 'p99 ms', 'cpu ms/req', 'pg ms/req', 'gc ms/req', 'others', 'failed'], runRows),
  );

  print();
  print('Means of the runs, and the API against the narrow floor');
  print();
  const summaries = new Map<string, { api: Summary; floor: Summary }>();
  const rows: string[][] = [];
  for (const { scenario, runs } of measured) {
    const api = summarise(runs.map((run) => run.api));
    const floor = summarise(runs.map((run) => run.floor));
    summaries.set(scenario.id, { api, floor });
    rows.push([
      `(${scenario.id}) ${scenario.title}`,
      fixed(api.rps),
      fixed(floor.rps),
      `${fixed(api.rps / floor.rps, 2)}x`,
      `${fixed(api.p99, 1)} / ${fixed(floor.p99, 1)}`,
      `${fixed(api.p99 / floor.p99, 2)}x`,
      `${fixed(api.p50, 1)} / ${fixed(floor.p50, 1)}`,
      `${fixed(api.cpu, 3)} / ${fixed(floor.cpu, 3)}`,
      `${fixed(api.pg, 3)} / ${fixed(floor.pg, 3)}`,
      `${fixed(api.gc, 3)} / ${fixed(floor.gc, 3)}`,
    ]);
  }
  print(
    formatTable(
      [
        'scenario',
        'API req/s',
        'floor req/s',
        'ratio',
        'p99 ms API / floor',
        'p99 ratio',
        'p50 ms API / floor',
        'cpu ms/req API / floor',
        'pg ms/req API / floor',
        'gc ms/req API / floor',
      ],
      rows,
    ),
  );

  print();
  print('Targets (2-core machine)');
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  for (const id of ['a', 'c', 'd', 'f']) {
    const s = summaries.get(id);
    if (s === undefined) continue;
    const ratio = s.api.rps / s.floor.rps;
    const p99 = s.api.p99 / s.floor.p99;
    print(`  ${verdict(ratio >= 0.7)}  (${id}) req/s >= 0.7x the floor's: ${fixed(ratio, 2)}x`);
    print(
      `  ${verdict(p99 <= 2)}  (${id}) p99 within 2x the floor's: ${fixed(s.api.p99, 1)} ms vs ${fixed(s.floor.p99, 1)} ms = ${fixed(p99, 2)}x`,
    );
  }
  const a = summaries.get('a');
  const g = summaries.get('g');
  if (a !== undefined && g !== undefined) {
    const change = (g.api.rps / a.api.rps - 1) * 100;
    print(
      `  ${verdict(change >= -10)}  (g) a viewer's req/s within 10% of an admin's (a): ${fixed(g.api.rps)} vs ${fixed(a.api.rps)} ` +
        `(${change >= 0 ? '+' : ''}${fixed(change)}%)`,
    );
  }
  for (const id of ['b', 'e']) {
    const s = summaries.get(id);
    if (s !== undefined)
      print(
        `  info  (${id}) bound by Postgres: ${fixed(s.api.rps / s.floor.rps, 2)}x the floor's req/s, Postgres ${fixed(s.api.pg, 3)} ms/req vs ${fixed(s.floor.pg, 3)}`,
      );
  }
  const failures = measured.flatMap(({ scenario, runs }) =>
    runs.flatMap(({ api, floor }) =>
      [
        ['API', api],
        ['floor', floor],
      ].flatMap(([target, run]) => {
        const r = (run as Run).load;
        return r.non2xx + r.errors + r.timeouts > 0
          ? [`(${scenario.id}) ${target as string}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`]
          : [];
      }),
    ),
  );
  print(failures.length === 0 ? '  every response of every run was 2xx' : `  NOT every response was 2xx:\n    ${failures.join('\n    ')}`);

  print();
  print("Plans (EXPLAIN (ANALYZE, BUFFERS) of the floor's statements, the API's SQL with the page's columns, after the load)");
  for (const { scenario } of measured) {
    print();
    print(`(${scenario.id}) ${scenario.title}`);
    for (const line of plans.get(scenario.id) ?? []) print(`  ${line}`);
  }
}
