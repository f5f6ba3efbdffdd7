/**
 * Preloaded into each target a bench measures (`node --require .../gc-meter.js`): it sums the
 * garbage collector's main-thread pauses by kind, and answers the sums over the IPC channel the
 * bench opened (`{ gc: true }` in, GcTotals out). The same meter in the API and in the floor, so
 * their figures compare. Young collections (scavenges) cost what survives them: a process whose
 * young objects live on pays here, in pauses the CPU figure alone does not explain.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';

export interface GcTotals {
  /** Milliseconds of young-generation collections (scavenges). */
  readonly youngMs: number;
  /** Milliseconds of full collections (mark-compact, and its incremental steps). */
  readonly fullMs: number;
}

const totals = { youngMs: 0, fullMs: 0 };

if (typeof process.send === 'function') {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) totals.youngMs += entry.duration;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR || kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL)
        totals.fullMs += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as { gc?: unknown }).gc === true) process.send?.({ gcTotals: totals });
  });
  // The channel must not keep a target alive once it is told to stop.
  process.channel?.unref();
}
