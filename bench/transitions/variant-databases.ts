/**
 * bench:transitions' three databases, one per variant: the notification triggers as they were
 * before the change relay (per-transaction), as migrated now (batched), or none at all (floor).
 */
import pino from 'pino';
import type { QueryRunner } from 'typeorm';
import { BatchedChangeNotifications1796573100990 } from '../../migrations/1796573100990-BatchedChangeNotifications';
import { insertPendingJobs, openBenchDatabase } from '../support/bench-db';

export const JOB_TYPE = 'bench-transitions';
export const VARIANTS = ['per-transaction', 'batched', 'floor'] as const;
export type Variant = (typeof VARIANTS)[number];

/** Every trigger that notifies (directly or through the outbox) on the tables a transition writes. */
const NOTIFYING_TRIGGERS = [
  ['jobs', 'jobs_notify_insert'],
  ['jobs', 'jobs_notify_update'],
  ['jobs', 'jobs_notify_delete'],
  ['timeline_events', 'timeline_notify_insert'],
  ['job_events', 'job_events_notify'],
  ['notifications', 'notifications_notify'],
  ['alert_deliveries', 'alert_deliveries_notify'],
] as const;

/** A fresh database for the variant, migrated, its triggers set as the variant says, seeded. */
export async function prepare(variant: Variant, jobs: number): Promise<string> {
  const database = await openBenchDatabase(pino({ level: 'warn' }), `jw_bench_transitions_${variant.replace('-', '_')}`, { fresh: true });
  try {
    const pool = database.pool;
    if (variant === 'per-transaction') {
      // The migration's own down(): the triggers exactly as they were before it.
      await new BatchedChangeNotifications1796573100990().down({ query: (text: string) => pool.query(text) } as unknown as QueryRunner);
    } else if (variant === 'floor') {
      for (const [table, trigger] of NOTIFYING_TRIGGERS) await pool.query(`DROP TRIGGER ${trigger} ON ${table}`);
    }
    const client = await pool.connect();
    try {
      // The seed itself notifies nothing (and fills no outbox), and may take longer than the pool's statement timeout.
      await client.query(`SET statement_timeout = 0`);
      await client.query(`SET session_replication_role = replica`);
      await insertPendingJobs(client, jobs, { name: 'Transition', type: JOB_TYPE, scope: 'acme/bench' });
      await client.query(`RESET session_replication_role`);
      await client.query('VACUUM (ANALYZE) jobs');
      await client.query('RESET statement_timeout');
    } finally {
      client.release();
    }
    return database.url;
  } finally {
    await database.close();
  }
}
