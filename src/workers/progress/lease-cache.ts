import type { Sql } from '../../db/sql';
import type { JobFacts } from '../../permissions/ability';
import { WORKER_HELD_STATUSES } from '../../jobs/job-status';
import type { Lease } from '../lease';

interface HeldJob extends JobFacts {
  readonly token: string;
}

const MAX_ENTRIES = 100_000;

/**
 * Which lease is current for each job a worker holds, so that a progress report can be
 * answered without a query. A miss (or a token we do not know) asks the database once for the
 * whole batch. The database stays the authority: every flush is guarded by the lease again,
 * and a refused flush evicts the entry, so a stale entry costs at most one flush interval.
 */
export class LeaseCache {
  private readonly held = new Map<string, HeldJob>();

  constructor(private readonly sql: Sql) {}

  /** The jobs (with their facts for permission checks) whose lease among these is current. */
  async current(leases: readonly Lease[]): Promise<Map<string, HeldJob>> {
    const result = new Map<string, HeldJob>();
    const missing = new Set<string>();
    for (const lease of leases) {
      const entry = this.held.get(lease.jobId);
      if (entry !== undefined && entry.token === lease.token) result.set(lease.jobId, entry);
      else missing.add(lease.jobId);
    }
    if (missing.size > 0) {
      const rows = await this.sql.rows<{ id: string; lease_token: string; scope: string; type: string; owner_id: string }>(
        `SELECT id, lease_token, scope, type, owner_id FROM jobs
          WHERE id = ANY($1::uuid[]) AND status = ANY($2::text[]) AND lease_token IS NOT NULL`,
        [[...missing], WORKER_HELD_STATUSES],
      );
      for (const row of rows) this.remember(row.id, { token: row.lease_token, scope: row.scope, type: row.type, ownerId: row.owner_id });
      for (const lease of leases) {
        const entry = this.held.get(lease.jobId);
        if (missing.has(lease.jobId) && entry !== undefined && entry.token === lease.token) result.set(lease.jobId, entry);
      }
    }
    return result;
  }

  remember(jobId: string, job: HeldJob): void {
    if (this.held.size >= MAX_ENTRIES && !this.held.has(jobId)) this.held.delete(this.held.keys().next().value as string);
    this.held.set(jobId, job);
  }

  forget(jobId: string): void {
    this.held.delete(jobId);
  }

  clear(): void {
    this.held.clear();
  }
}
