/**
 * One "instance" of bench:transitions (a child process): a pool, a LISTEN connection and, when
 * the database relays, a ThreadedRelay, as an API instance has; `concurrency` loops that each claim
 * the next job and complete it with the API's own statements (claimJob, changeJobs), for the
 * window the runner opens. Reports transitions, their latencies, and the job ids notified.
 *
 * Runner -> child: { type: 'run', seconds } ; child -> runner: { type: 'ready' } then
 * { type: 'done', ... }. Environment: BENCH_DATABASE_URL, BENCH_CONCURRENCY, BENCH_JOB_TYPE,
 * BENCH_RELAY ('1' to run a relay).
 */
import 'reflect-metadata';
import { Pool } from 'pg';
import pino from 'pino';
import { ThreadedRelay } from '../../src/db/threaded-relay';
import { PgListener } from '../../src/db/pg-listener';
import { sqlOf } from '../../src/db/sql';
import { changeJobs } from '../../src/jobs/transitions/change-jobs';
import { JOBS_CHANNEL } from '../../src/realtime/job-event-hub';
import { LEASES_CHANNEL } from '../../src/workers/progress/lease-cache';
import { claimJob } from '../../src/workers/sql/claim-job';
import { LatencyHistogram, type SparseHistogram } from '../support/latency-histogram';

export type InstanceMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'done';
      readonly transitions: number;
      readonly empty: number;
      readonly errors: number;
      readonly lastError: string;
      readonly latency: SparseHistogram;
      readonly notifiedIds: number;
      readonly notifications: number;
      readonly relayDrains: number;
      readonly cpuMs: number;
    };

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};

async function main(): Promise<void> {
  const url = env('BENCH_DATABASE_URL');
  const concurrency = Number(env('BENCH_CONCURRENCY'));
  const type = env('BENCH_JOB_TYPE');
  const log = pino({ level: 'warn' });
  const pool = new Pool({ connectionString: url, max: concurrency + 2 });
  const sql = sqlOf(pool);
  const listener = new PgListener({ url, channels: [JOBS_CHANNEL, LEASES_CHANNEL], log });
  let counting = false;
  let notifiedIds = 0;
  let notifications = 0;
  listener.on(JOBS_CHANNEL, (payload) => {
    if (!counting) return;
    notifications += 1;
    notifiedIds += payload.split(',').length;
  });
  await listener.start();
  const relay = process.env['BENCH_RELAY'] === '1' ? new ThreadedRelay(url, log) : undefined;
  relay?.start();

  const latency = new LatencyHistogram();
  let transitions = 0;
  let empty = 0;
  let errors = 0;
  let lastError = '';
  let running = false;
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    latency.add(performance.now() - started);
    transitions += 1;
    return result;
  };
  const loop = async () => {
    while (running) {
      try {
        const row = await timed(() =>
          claimJob(sql, { workerId: `bench-${process.pid}`, actorId: 'bench-worker', types: [type], executable: () => 'TRUE' }),
        );
        if (row === undefined) {
          transitions -= 1;
          empty += 1;
          continue;
        }
        // completeJob's statement (src/workers/worker.resolver.ts), guarded by the lease.
        await timed(() =>
          changeJobs(sql, {
            target: { ids: [row.id] },
            transitions: ['complete'],
            by: 'worker',
            operation: { kind: 'update', set: () => `status = 'SUCCEEDED', error_message = NULL, error_stack = NULL` },
            guards: [(params) => `j.lease_token = ${params.add(row.lease_token)}::uuid`, () => 'TRUE'],
            event: { kind: 'SUCCEEDED', actorId: 'bench-worker', actorKind: 'WORKER' },
          }),
        );
      } catch (error) {
        errors += 1;
        lastError = error instanceof Error ? error.message : String(error);
      }
    }
  };

  process.on('message', (message: { type: string; seconds: number }) => {
    if (message.type !== 'run') return;
    void (async () => {
      latency.reset();
      transitions = 0;
      empty = 0;
      errors = 0;
      notifiedIds = 0;
      notifications = 0;
      const drainsBefore = relay?.stats.drains ?? 0;
      const cpuBefore = process.cpuUsage();
      counting = true;
      running = true;
      const loops = Array.from({ length: concurrency }, () => loop());
      await new Promise((resolve) => setTimeout(resolve, message.seconds * 1000));
      running = false;
      await Promise.all(loops);
      // What the window's transitions notified, delivered before the count stops.
      await relay?.flush();
      await new Promise((resolve) => setTimeout(resolve, 300));
      counting = false;
      const cpu = process.cpuUsage(cpuBefore);
      const done: InstanceMessage = {
        type: 'done',
        transitions,
        empty,
        errors,
        lastError,
        latency: latency.toSparse(),
        notifiedIds,
        notifications,
        relayDrains: (relay?.stats.drains ?? 0) - drainsBefore,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
      process.send?.(done);
    })();
  });
  process.on('disconnect', () => {
    running = false;
    void (async () => {
      await relay?.stop().catch(() => undefined);
      await listener.stop();
      await pool.end();
      process.exit(0);
    })();
  });
  process.send?.({ type: 'ready' } satisfies InstanceMessage);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:transitions instance failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
