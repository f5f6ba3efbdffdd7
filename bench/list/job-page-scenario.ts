/**
 * (f) The job page: `job(id)` with its tasks and its first 20 timeline events, for a seeded job
 * with the most tasks, which the benchmark gives 30 timeline events (log lines) once.
 */
import type { Pool } from 'pg';
import type { Context } from '../../src/app/context';
import { findVisibleJob } from '../../src/jobs/sql/find-job';
import { captureStatement, selectOnly } from './list-sql';
import { ADMIN, type BenchScenario, compareRows, type ScenarioSet, type Statement } from './scenarios';

const EVENTS = 30;
const TIMELINE_PAGE = 20;

const QUERY = `query BenchJob($id: ID!) {
  job(id: $id) {
    id name type scope owner status step
    progress { percent done total unit phase etaSeconds }
    message error { message } createdAt startedAt finishedAt duration
    tasks { name status done total percent message }
    timeline(first: ${TIMELINE_PAGE}) {
      nodes { id at kind actor actorKind toStatus message }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const JOB_COLUMNS = [
  'id',
  'name',
  'type',
  'scope',
  'owner_id',
  'status',
  'step',
  'progress_percent',
  'progress_done',
  'progress_total',
  'progress_unit',
  'progress_phase',
  'progress_rate',
  'progress_updated_at',
  'message',
  'error_message',
  'created_at',
  'started_at',
  'finished_at',
];
const JOB_FIELDS = {
  id: 'id',
  name: 'name',
  type: 'type',
  scope: 'scope',
  owner: 'owner_id',
  status: 'status',
  step: 'step',
  'progress.done': 'progress_done',
  'progress.total': 'progress_total',
  'progress.unit': 'progress_unit',
  'progress.phase': 'progress_phase',
  message: 'message',
  'error.message': 'error_message',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};
const TASKS = `SELECT name, status, done, total, message FROM tasks WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, position, name`;
const TASK_FIELDS = { name: 'name', status: 'status', done: 'done', total: 'total', message: 'message' };
const TIMELINE = `SELECT id, at, kind, actor_id, actor_kind, to_status, message FROM timeline_events
  WHERE job_id = $1 AND id > 0 ORDER BY id LIMIT $2`;
const EVENT_FIELDS = {
  id: 'id',
  at: 'at',
  kind: 'kind',
  actor: 'actor_id',
  actorKind: 'actor_kind',
  toStatus: 'to_status',
  message: 'message',
};

export interface JobPageInputs {
  readonly jobId: string;
}

interface FloorJobPage {
  readonly job: Record<string, unknown>;
  readonly tasks: Array<Record<string, unknown>>;
  readonly timeline: { nodes: Array<Record<string, unknown>>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const timelineCursor = (id: string) => Buffer.from(`t1:${id}`).toString('base64url');

/** The statement `findVisibleJob` (what `job(id)` runs) sends for the user, selecting only `columns`. */
function findJobStatement(ability: Context['ability'], jobId: string): Statement {
  const statement = captureStatement((sql) => findVisibleJob({ ability, services: { sql } } as unknown as Context, jobId));
  return { text: selectOnly(statement.text, JOB_COLUMNS), values: statement.values };
}

export const jobPageScenarios: ScenarioSet<JobPageInputs> = {
  name: 'job-page',
  async prepare(pool: Pool, print) {
    const { rows } = await pool.query<{ id: string; tasks: string }>(
      `SELECT job_id AS id, count(*) AS tasks FROM tasks GROUP BY job_id ORDER BY count(*) DESC, job_id LIMIT 1`,
    );
    const job = rows[0];
    if (job === undefined) throw new Error('no seeded job has tasks');
    const { rows: counted } = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM timeline_events WHERE job_id = $1', [
      job.id,
    ]);
    const missing = EVENTS - (counted[0]?.count ?? 0);
    if (missing > 0) {
      // Log lines of the job's own worker, as a running job writes them (idempotent: only the missing ones).
      await pool.query(
        `INSERT INTO timeline_events (job_id, at, kind, actor_id, actor_kind, attempt, step, message, job_scope, job_type, job_owner_id)
         SELECT j.id, coalesce(j.started_at, j.created_at) + n * interval '1 second', 'LOG', coalesce(j.worker_id, 'bench-worker'), 'WORKER',
                j.attempt, j.step, 'bench log line ' || n, j.scope, j.type, j.owner_id
           FROM jobs j, generate_series(1, $2::int) AS n WHERE j.id = $1`,
        [job.id, missing],
      );
      print(`job page: added ${missing} timeline events to job ${job.id}`);
    }
    print(`job page: job ${job.id} (${job.tasks} tasks, ${EVENTS} timeline events)`);
    return { jobId: job.id };
  },
  scenarios({ jobId }) {
    let statement: Statement | undefined;
    const scenario: BenchScenario = {
      id: 'f',
      title: `job(id) with its tasks and ${TIMELINE_PAGE} timeline events`,
      user: ADMIN,
      query: QUERY,
      variables: { id: jobId },
      async floor({ pool, ability }): Promise<FloorJobPage | null> {
        statement ??= findJobStatement(ability(ADMIN), jobId);
        const found = await pool.query(statement.text, statement.values as unknown[]);
        const job = found.rows[0] as Record<string, unknown> | undefined;
        if (job === undefined) return null;
        const [tasks, events] = await Promise.all([pool.query(TASKS, [[jobId]]), pool.query(TIMELINE, [jobId, TIMELINE_PAGE + 1])]);
        const nodes = events.rows as Array<Record<string, unknown>>;
        const hasNextPage = nodes.length > TIMELINE_PAGE;
        if (hasNextPage) nodes.pop();
        const last = nodes[nodes.length - 1];
        return {
          job,
          tasks: tasks.rows,
          timeline: { nodes, pageInfo: { hasNextPage, endCursor: last === undefined ? null : timelineCursor(String(last['id'])) } },
        };
      },
      check(data, floor) {
        const api = (
          data as { job: (Record<string, unknown> & { tasks: Array<Record<string, unknown>>; timeline: FloorJobPage['timeline'] }) | null }
        ).job;
        const expected = floor as FloorJobPage | null;
        if (api === null || expected === null)
          return `the job is ${api === null ? 'null' : 'there'} in the API, ${expected === null ? 'null' : 'there'} in the floor`;
        if (api.timeline.nodes.length !== TIMELINE_PAGE)
          return `the API answered ${api.timeline.nodes.length} timeline events, expected ${TIMELINE_PAGE}`;
        if (JSON.stringify(api.timeline.pageInfo) !== JSON.stringify(expected.timeline.pageInfo)) return 'the timeline pageInfo differs';
        return (
          compareRows('job', [api], [expected.job], JOB_FIELDS) ??
          compareRows('task', api.tasks, expected.tasks, TASK_FIELDS) ??
          compareRows('timeline event', api.timeline.nodes, expected.timeline.nodes, EVENT_FIELDS)
        );
      },
      explain: ({ ability }) => [
        findJobStatement(ability(ADMIN), jobId),
        { text: TASKS, values: [[jobId]] },
        { text: TIMELINE, values: [jobId, TIMELINE_PAGE + 1] },
      ],
    };
    return [scenario];
  },
};
