import { loadConfig } from '../src/config';
import { historyDaysFor, SEED_HISTORY_DAYS, seedJobs } from '../scripts/seed/seed-jobs';
import { ALL_STATUSES, TERMINAL_STATUSES } from '../src/jobs/job-status';
import { apiSuite } from './support/api-suite';

/**
 * `npm run seed` under the default settings: the history it writes is one a server with the
 * same settings keeps (nothing is deleted by retention), and it covers every status.
 */

const DAY = 86_400_000;
const JOBS = 4_000;

const suite = apiSuite({ grants: [] });

test('the history follows RETENTION_DAYS: 7 by default, at most three months, at least a day', () => {
  expect(loadConfig({ NODE_ENV: 'test' }).retentionDays).toBe(7);
  expect(historyDaysFor(7)).toBe(7);
  expect(historyDaysFor(30)).toBe(30);
  expect(historyDaysFor(36500)).toBe(SEED_HISTORY_DAYS);
  expect(historyDaysFor(0)).toBe(1);
});

test('seeded under the defaults, every job is created and finished within the retention window, and retention keeps them all', async () => {
  const days = historyDaysFor(suite.server.services.config.retentionDays);
  const before = Date.now();
  await seedJobs(suite.db.pool, { jobs: JOBS, historyDays: days, parallel: 1 });
  const { rows } = await suite.db.pool.query<{
    status: string;
    jobs: number;
    oldest_created: Date;
    oldest_finished: Date | null;
    newest: Date;
  }>(
    `SELECT status, count(*)::int AS jobs, min(created_at) AS oldest_created, min(finished_at) AS oldest_finished,
            greatest(max(created_at), max(finished_at)) AS newest
       FROM jobs GROUP BY status`,
  );
  expect(rows.map((row) => row.status).sort()).toEqual([...ALL_STATUSES].sort());
  const windowStart = before - days * DAY;
  for (const row of rows) {
    expect([row.status, row.oldest_created.getTime() >= windowStart]).toEqual([row.status, true]);
    if ((TERMINAL_STATUSES as readonly string[]).includes(row.status)) {
      expect([row.status, row.oldest_finished !== null && row.oldest_finished.getTime() >= windowStart]).toEqual([row.status, true]);
    }
    expect([row.status, row.newest.getTime() <= Date.now()]).toEqual([row.status, true]);
  }
  // The server's own retention rule, with its default RETENTION_DAYS, finds nothing to delete.
  // The window's oldest jobs finish seconds after its start, and the seed (4,000 jobs) and the
  // checks above take seconds on a busy machine: by the tick they could have aged past the
  // retention. So the history is first moved to end a minute from now (as if seeded just now,
  // with a minute to spare), and then no job of it may go.
  const { rows: shifted } = await suite.db.pool.query<{ moved: number }>(
    `UPDATE jobs SET created_at = created_at + make_interval(secs => $1), started_at = started_at + make_interval(secs => $1),
            finished_at = finished_at + make_interval(secs => $1)
     RETURNING 1 AS moved`,
    [(Date.now() - before) / 1000 + 60],
  );
  expect(shifted).toHaveLength(JOBS);
  const tick = await suite.server.services.daemon.tick();
  expect(tick).not.toBe('skipped');
  expect(tick).toMatchObject({ deleted: 0 });
  const { rows: left } = await suite.db.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM jobs');
  expect(left[0]?.count).toBe(JOBS);
});
