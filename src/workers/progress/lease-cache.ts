import type { Sql } from '../../db/sql';
import type { PgListener } from '../../db/pg-listener';
import type { JobFacts } from '../../permissions/ability';
import { WORKER_HELD_STATUSES } from '../../jobs/job-status';
import type { Lease } from '../lease';

/** Postgres notifies `<job id>.<lease token or nothing>` here (comma-separated, batched) whenever a job's lease or status changes. */
export const LEASES_CHANNEL = 'jobwatch_leases';

interface HeldJob extends JobFacts {
  readonly token: string;
}

const MAX_ENTRIES = 100_000;

/**
 * Which lease is current for each job a worker holds, so that a progress report can be
 * answered without a query. A miss (or a token we do not know) asks the database once for the
 * whole batch. Entries are dropped when the lease or status changes, whoever changed it and on
 * whatever instance: a trigger notifies every change (LEASES_CHANNEL), so a report sent after
 * an ABORT, a cancel or the end of the attempt is refused, not counted as accepted. While the
 * LISTEN connection is down, changes could be missed: the cache is then bypassed, and emptied
 * when it comes back. The database stays the authority all the same: every flush is guarded by
 * the lease again.
 */
export class LeaseCache {
  private readonly held = new Map<string, HeldJob>();
  /** One set per lookup in flight: the jobs whose lease changed while it ran (not to be cached). */
  private readonly changedDuringLookup = new Set<Set<string>>();
  private listening: boolean;

  constructor(
    private readonly sql: Sql,
    listener?: PgListener,
  ) {
    // Without a listener nothing would ever say an entry went stale: then nothing is cached.
    this.listening = listener?.connected ?? false;
    listener?.on(LEASES_CHANNEL, (payload) => this.changed(payload));
    listener?.onDisconnect(() => {
      this.listening = false;
      this.held.clear();
    });
    listener?.onConnect(() => {
      this.held.clear();
      this.listening = true;
    });
  }

  /** The jobs (with their facts for permission checks) whose lease among these is current. */
  async current(leases: readonly Lease[]): Promise<Map<string, HeldJob>> {
    const result = new Map<string, HeldJob>();
    const missing = new Set<string>();
    for (const lease of leases) {
      const entry = this.held.get(lease.jobId);
      if (entry !== undefined && entry.token === lease.token) result.set(lease.jobId, entry);
      else missing.add(lease.jobId);
    }
    if (missing.size === 0) return result;
    const changed = new Set<string>();
    this.changedDuringLookup.add(changed);
    let rows: Array<{ id: string; lease_token: string; scope: string; type: string; owner_id: string }>;
    try {
      rows = await this.sql.rows(
        `SELECT id, lease_token, scope, type, owner_id FROM jobs
          WHERE id = ANY($1::uuid[]) AND status = ANY($2::text[]) AND lease_token IS NOT NULL`,
        [[...missing], WORKER_HELD_STATUSES],
      );
    } finally {
      this.changedDuringLookup.delete(changed);
    }
    const found = new Map<string, HeldJob>();
    for (const row of rows) {
      const job = { token: row.lease_token, scope: row.scope, type: row.type, ownerId: row.owner_id };
      found.set(row.id, job);
      // A change notified while the query ran may be newer than what it read: not cached.
      if (!changed.has(row.id)) this.remember(row.id, job);
    }
    for (const lease of leases) {
      const entry = found.get(lease.jobId);
      if (missing.has(lease.jobId) && entry !== undefined && entry.token === lease.token) result.set(lease.jobId, entry);
    }
    return result;
  }

  remember(jobId: string, job: HeldJob): void {
    if (!this.listening) return;
    if (this.held.size >= MAX_ENTRIES && !this.held.has(jobId)) this.held.delete(this.held.keys().next().value as string);
    this.held.set(jobId, job);
  }

  /** Forgets a job's entry, only if it is still the given lease (a newer attempt's stays). */
  forget(jobId: string, token?: string): void {
    if (token === undefined || this.held.get(jobId)?.token === token) this.held.delete(jobId);
  }

  clear(): void {
    this.held.clear();
  }

  /** `<job id>.<token>` items, comma-separated (the relay batches them; a job's latest comes last). */
  private changed(payload: string): void {
    for (const item of payload.split(',')) {
      if (item === '') continue;
      const dot = item.indexOf('.');
      const jobId = dot === -1 ? item : item.slice(0, dot);
      const token = dot === -1 ? '' : item.slice(dot + 1);
      for (const set of this.changedDuringLookup) set.add(jobId);
      // Our own claim notifies the token we just cached: that entry stays.
      if (this.held.get(jobId)?.token !== token) this.held.delete(jobId);
    }
  }
}
