import type { Pool } from 'pg';

/**
 * Waits until a backend of this database is waiting on a lock while running a statement that
 * contains `fragment`, and answers its pid: a test holds a lock, starts the statement, waits
 * here, then cancels it (pg_cancel_backend) to make that statement fail for real. Polls
 * pg_stat_activity: Postgres has no event to await for "now waiting".
 */
export async function blockedBackend(pool: Pool, fragment: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0`,
      [fragment],
    );
    if (rows[0] !== undefined) return rows[0].pid;
    if (Date.now() > deadline) throw new Error(`no backend waited on a lock running ${fragment}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
