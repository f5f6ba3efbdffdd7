/** bench:subscriptions' results: tables of figures, memory, CPU, troubles, and PASS/MISS against the targets. */
import { availableParallelism } from 'node:os';
import { check, print } from '../support/output';
import { formatTable } from '../support/table';
import type { Options } from './options';
import { kbPer, mb, type Memory, pct, type Run } from './run-target';

/** Issue 14: at 5,000 subscribers, >= 0.9x the floor's messages, p99 within 1.5x the floor's, <= 15 KB each. */
const TARGETS = { held: 5_000, p99Ms: 250, p99AtN: 1_000, floorRatio: 0.9, p99OfFloor: 1.5, kbPerSubscriber: 15 };

export function report(runs: readonly Run[], options: Options): void {
  const floorOf = (n: number) => runs.find((r) => r.target === 'floor' && r.n === n);
  const apiOf = (n: number) => runs.find((r) => r.target === 'API' && r.n === n);
  print();
  print(
    `Results: ${options.jobs} jobs written every ${options.interval} ms (N/${options.jobs} subscribers per job), ` +
      `${options.duration} s measured after a ${options.warmup} s warm-up; latency = receipt - progress.updatedAt`,
  );
  print(
    'KB/sub RSS: (RSS with N after the window - RSS before N) / N, both read with no message in flight; ' +
      "idle: the same with N subscribed before any message flowed; heap: V8's used heap, after a full GC",
  );
  print();
  const rows = runs.map((run) => {
    const h = run.window.histogram;
    const floor = floorOf(run.n);
    const ratio =
      run.target === 'API' && floor !== undefined ? `${(run.window.messagesPerSecond / floor.window.messagesPerSecond).toFixed(2)}x` : '';
    return [
      run.n.toLocaleString('en-US'),
      run.target,
      run.held.toLocaleString('en-US'),
      Math.round(run.window.messagesPerSecond).toLocaleString('en-US'),
      Math.round(run.expected / run.window.seconds).toLocaleString('en-US'),
      String(h.percentile(0.5)),
      String(h.percentile(0.99)),
      String(h.max),
      kbPer(run.before.rss, run.after.rss, run.n).toFixed(1),
      kbPer(run.before.rss, run.idle.rss, run.n).toFixed(1),
      kbPer(run.before.probe.heapUsed, run.idle.probe.heapUsed, run.n).toFixed(1),
      ratio,
      run.notifyDelay === undefined ? '' : `${run.notifyDelay.p50}/${run.notifyDelay.p99}`,
    ];
  });
  print(
    formatTable(
      [
        'N',
        'server',
        'held',
        'msg/s',
        'writes x subs /s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'KB/sub RSS',
        'KB/sub RSS idle',
        'KB/sub heap idle',
        'API/floor msg/s',
        'write->NOTIFY p50/p99 ms',
      ],
      rows,
    ),
  );
  print();
  print('Where the CPU went during each window (% of one core; the machine has ' + `${availableParallelism()} CPUs)`);
  print();
  print(
    formatTable(
      [
        'N',
        'server',
        'server CPU',
        'postgres CPU',
        'clients CPU',
        'runner CPU',
        'machine busy',
        'server loop p99/max ms',
        'clients loop p99/max ms',
        'connect s',
      ],
      runs.map((run) => [
        run.n.toLocaleString('en-US'),
        run.target,
        pct(run.cpu.server, run.cpu.seconds),
        pct(run.cpu.postgres, run.cpu.seconds),
        pct(run.cpu.clients, run.cpu.seconds),
        pct(run.cpu.runner, run.cpu.seconds),
        `${pct(run.cpu.machineBusy, run.cpu.seconds)}/${pct(run.cpu.machineTotal, run.cpu.seconds)}`,
        `${run.serverLoop.loopDelayP99.toFixed(0)}/${run.serverLoop.loopDelayMax.toFixed(0)}`,
        `${run.window.loopDelayP99.toFixed(0)}/${run.window.loopDelayMax.toFixed(0)}`,
        run.open.seconds.toFixed(1),
      ]),
    ),
  );
  print();
  print(
    'Server memory (no message in flight, after a full GC; RSS = median of 7 samples over 2 s). MB: RSS / heap used / heap total / external (memory outside the heap that V8 knows of: buffers)',
  );
  print();
  const triple = (m: Memory) => `${mb(m.rss)} / ${mb(m.probe.heapUsed)} / ${mb(m.probe.heapTotal)} / ${mb(m.probe.external)}`;
  print(
    formatTable(
      ['N', 'server', 'fresh, warmed, no subscriber', 'N subscribed, idle', 'N subscribed, after the window'],
      runs.map((run) => [run.n.toLocaleString('en-US'), run.target, triple(run.before), triple(run.idle), triple(run.after)]),
    ),
  );
  print();
  print('V8 heap spaces: fresh, then with N subscribed after the window (MB used / MB physical)');
  const spaces = (memory: Memory) =>
    Object.entries(memory.probe.spaces)
      .filter(([, space]) => space.physical >= 0.5)
      .map(([name, space]) => `${name.replace(/_space$/, '')} ${space.used}/${space.physical}`)
      .join(', ');
  for (const run of runs) {
    print(`  N=${run.n} ${run.target} fresh: ${spaces(run.before)}`);
    print(`  N=${run.n} ${run.target} after: ${spaces(run.after)}`);
  }
  const troubles = runs.filter((run) => run.open.failed > 0 || run.held < run.n || run.errors.length > 0 || run.window.undated > 0);
  if (troubles.length > 0) {
    print();
    for (const run of troubles) {
      print(
        `N=${run.n} ${run.target}: ${run.open.failed} failed to subscribe, ${run.n - run.held} not held at the end, ` +
          `${run.window.undated} messages without progress.updatedAt; close codes ${JSON.stringify(run.closedCodes)}; ` +
          `errors: ${run.errors.join(' | ') || 'none'}${run.open.failures.length > 0 ? `; first failures: ${run.open.failures.join(' | ')}` : ''}`,
      );
    }
  }

  for (const run of runs) {
    if (run.heapGrowth.length === 0) continue;
    print();
    print(`N=${run.n} ${run.target}: heap snapshots (the RSS figures of this run are spoiled by them)`);
    for (const line of run.heapGrowth) print(`  ${line}`);
  }

  print();
  print('Targets');
  const biggest = apiOf(TARGETS.held);
  check(
    biggest !== undefined && biggest.held >= TARGETS.held,
    `${TARGETS.held.toLocaleString('en-US')} subscribers held by the API: ` +
      (biggest === undefined ? 'not measured (add it to --sizes)' : `${biggest.held.toLocaleString('en-US')} held at the end`),
  );
  const small = apiOf(TARGETS.p99AtN);
  const p99 = small?.window.histogram.percentile(0.99);
  check(
    p99 !== undefined && p99 <= TARGETS.p99Ms,
    `p99 <= ${TARGETS.p99Ms} ms at ${TARGETS.p99AtN.toLocaleString('en-US')} subscribers (API): ` +
      (p99 === undefined ? 'not measured (add it to --sizes)' : `${p99} ms`),
  );
  for (const n of options.sizes) {
    const api = apiOf(n);
    const floor = floorOf(n);
    if (api === undefined || floor === undefined) continue;
    const ratio = api.window.messagesPerSecond / floor.window.messagesPerSecond;
    check(
      ratio >= TARGETS.floorRatio,
      `>= ${TARGETS.floorRatio}x the floor's messages/s at N=${n.toLocaleString('en-US')}: ` +
        `API ${Math.round(api.window.messagesPerSecond).toLocaleString('en-US')} / floor ${Math.round(floor.window.messagesPerSecond).toLocaleString('en-US')} = ${ratio.toFixed(2)}x`,
    );
  }
  for (const n of options.sizes) {
    const api = apiOf(n);
    const floor = floorOf(n);
    if (api === undefined || floor === undefined) continue;
    const apiP99 = api.window.histogram.percentile(0.99);
    const floorP99 = floor.window.histogram.percentile(0.99);
    check(
      apiP99 <= floorP99 * TARGETS.p99OfFloor,
      `p99 within ${TARGETS.p99OfFloor}x the floor's at N=${n.toLocaleString('en-US')}: API ${apiP99} ms / floor ${floorP99} ms = ${(apiP99 / floorP99).toFixed(2)}x`,
    );
  }
  for (const n of options.sizes) {
    const api = apiOf(n);
    if (api === undefined) continue;
    const kb = kbPer(api.before.rss, api.after.rss, n);
    const floor = floorOf(n);
    check(
      kb <= TARGETS.kbPerSubscriber,
      `<= ${TARGETS.kbPerSubscriber} KB of server memory per subscriber at N=${n.toLocaleString('en-US')} (API, RSS after the window): ${kb.toFixed(1)} KB` +
        ` (held idle: ${kbPer(api.before.rss, api.idle.rss, n).toFixed(1)} KB RSS, ${kbPer(api.before.probe.heapUsed, api.idle.probe.heapUsed, n).toFixed(1)} KB heap` +
        (floor === undefined ? ')' : `; floor after the window: ${kbPer(floor.before.rss, floor.after.rss, n).toFixed(1)} KB RSS)`),
    );
  }
}
