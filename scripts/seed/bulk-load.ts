/** Bulk work on pooled connections: transactions tuned for loading, and lanes that share a task list. */
import { availableParallelism } from 'node:os';
import type { Pool, PoolClient } from 'pg';

/** Runs `work` in a transaction whose settings suit bulk work (no timeout, asynchronous commit). */
export async function bulk<T>(client: PoolClient, settings: Record<string, string>, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    for (const [name, value] of Object.entries({ statement_timeout: '0', synchronous_commit: 'off', ...settings })) {
      await client.query('SELECT set_config($1, $2, true)', [name, value]);
    }
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Runs the tasks on `parallel` pooled connections, each taking the next task when done. */
export async function onConnections<T>(
  pool: Pool,
  parallel: number,
  tasks: readonly T[],
  run: (client: PoolClient, task: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    const client = await pool.connect();
    try {
      while (!failed && signal?.aborted !== true && next < tasks.length) {
        const task = tasks[next++] as T;
        try {
          await run(client, task);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    } finally {
      client.release();
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(parallel, tasks.length) }, lane));
  const rejected = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
}

export function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

export function defaultParallel(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}
