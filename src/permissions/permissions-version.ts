import type { Sql } from '../db/sql';

/**
 * The version as a column of another statement (`permissions_version`): read in that statement's
 * own snapshot, so a read that answers it says which permissions it ran under, with no round
 * trip of its own (see verifiedRows in jobs/verified-read.ts).
 */
export const PERMISSIONS_VERSION_COLUMN = '(SELECT version FROM permissions_version WHERE id) AS permissions_version';

/** The callers waiting for the next read: one promise for all of them, not one each. */
type Next = { readonly answer: Promise<string>; resolve: (version: string) => void; reject: (error: unknown) => void };

/**
 * Reads the permissions version (migration 1763900007000: bumped in the transaction of every
 * change to grants or roles) for many callers with few queries, and never answers a caller
 * from a read that began before it asked: callers that arrive while a read is in flight share
 * the next one. Under load that is one primary-key read per round trip, not one per request.
 * Every subscription event asks (each is checked against its viewer's permissions before it is
 * sent), thousands per second: the callers of one read share one promise.
 */
export class PermissionsVersion {
  private waiting: Next | undefined;
  private state: 'idle' | 'scheduled' | 'reading' = 'idle';

  constructor(private readonly sql: Sql) {}

  /** The version as of a moment after this call. */
  read(): Promise<string> {
    if (this.waiting === undefined) {
      let resolve!: (version: string) => void;
      let reject!: (error: unknown) => void;
      const answer = new Promise<string>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.waiting = { answer, resolve, reject };
    }
    if (this.state === 'idle') {
      // Callers of the same tick (a subscription event deciding for many users) share one read.
      this.state = 'scheduled';
      queueMicrotask(() => this.next());
    }
    return this.waiting.answer;
  }

  private next(): void {
    const batch = this.waiting;
    this.waiting = undefined;
    if (batch === undefined) {
      this.state = 'idle';
      return;
    }
    this.state = 'reading';
    this.sql
      .one<{ version: string }>('SELECT version FROM permissions_version WHERE id')
      .then((row) => {
        // The row is made by the migration and never deleted; without it nothing can be cached safely.
        if (row === undefined) throw new Error('permissions_version has no row');
        batch.resolve(row.version);
      })
      .catch((error: unknown) => {
        batch.reject(error);
      })
      .finally(() => this.next());
  }
}
