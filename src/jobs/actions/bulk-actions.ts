import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { Context } from '../../app/context';
import { SqlParams } from '../../db/sql-params';
import { JobStatus } from '../job-status';
import type { JobFilter } from '../job-filter.input';
import { visibleJobsWhere } from '../visible-jobs';
import { changeJobs } from '../transitions/change-jobs';
import { fromOf } from '../transitions/transition-sql';
import { actionChange } from './perform-action';
import type { UserAction } from './user-actions';

const BATCH = 500;
const MAX_REPORTED_SKIPS = 100;

@ObjectType({ description: 'A job a bulk action left alone, and why.' })
export class BulkSkip {
  @Field(() => ID, { description: 'The job id.' })
  id!: string;
  @Field(() => String, { description: 'The job name.' })
  name!: string;
  @Field(() => JobStatus, { description: 'Its status when the action ran.' })
  status!: JobStatus;
  @Field(() => String, { description: 'FORBIDDEN (the viewer may not act on it) or CONFLICT (its status does not allow it).' })
  code!: string;
  @Field(() => String, { description: 'The reason, in words.' })
  reason!: string;
}

@ObjectType({ description: 'What a bulk action did (or, for a dry run, would do).' })
export class BulkActionResult {
  @Field(() => Boolean, { description: 'True when nothing was changed: the counts say what would happen.' })
  dryRun!: boolean;
  @Field(() => Int, { description: 'Visible jobs matching the filter.' })
  matched!: number;
  @Field(() => Int, { description: 'Jobs changed (would be changed, in a dry run).' })
  changed!: number;
  @Field(() => Int, {
    description: 'Matching jobs left alone: not permitted, not in a status the action applies to, or changed by someone else meanwhile.',
  })
  skippedCount!: number;
  @Field(() => [BulkSkip], { description: `The first ${MAX_REPORTED_SKIPS} skipped jobs with their reasons.` })
  skipped!: BulkSkip[];
}

interface Candidate {
  id: string;
  name: string;
  status: JobStatus;
  permitted: boolean;
  legal: boolean;
}

/**
 * Applies an action to every visible job matching a filter, in batches of guarded statements
 * (each job changes atomically with its event; a batch never waits on a half-done one). Jobs the
 * viewer may not act on, or whose status does not allow it, are reported, never touched.
 */
export async function runBulkAction<A>(
  ctx: Context,
  action: UserAction<A>,
  filter: JobFilter | null,
  dryRun: boolean,
  args: A,
): Promise<BulkActionResult> {
  const where = visibleJobsWhere(ctx, filter);
  const classify = (params: SqlParams) => ({
    permitted: action.permitted(ctx, params),
    legal: `j.status = ANY(${params.add(fromOf(action.transitions))}::text[])`,
  });

  // The counts, and the first skipped jobs, of everything the filter matches.
  const params = new SqlParams();
  const conditions = where(params);
  const { permitted, legal } = classify(params);
  const whereSql = conditions.length === 0 ? 'TRUE' : conditions.join(' AND ');
  const summary = await ctx.services.sql.one<{ matched: number; actionable: number }>(
    `SELECT count(*)::int AS matched, count(*) FILTER (WHERE ${permitted} AND ${legal})::int AS actionable FROM jobs j WHERE ${whereSql}`,
    params.values,
  );
  const skipped = await ctx.services.sql.rows<Candidate>(
    `SELECT id, name, status, ${permitted} AS permitted, ${legal} AS legal FROM jobs j
      WHERE ${whereSql} AND NOT (${permitted} AND ${legal}) ORDER BY id LIMIT ${MAX_REPORTED_SKIPS}`,
    params.values,
  );
  const matched = summary?.matched ?? 0;
  const actionable = summary?.actionable ?? 0;
  const skips = skipped.map((job) => skipOf(job, action));
  if (dryRun) return { dryRun, matched, changed: actionable, skippedCount: matched - actionable, skipped: skips };

  // Batches take every permitted match and let the guarded statement decide what is still
  // legal: a job changed by someone else meanwhile is then reported, never silently dropped.
  let changed = 0;
  const reported = new Set(skips.map((skip) => skip.id));
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const batchParams = new SqlParams();
    const batchConditions = where(batchParams);
    const batchPermitted = action.permitted(ctx, batchParams);
    const batch = await ctx.services.sql.rows<{ id: string; name: string; status: JobStatus }>(
      `SELECT id, name, status FROM jobs j
        WHERE ${batchConditions.length === 0 ? 'TRUE' : batchConditions.join(' AND ')}
          AND ${batchPermitted} AND id > ${batchParams.add(after)}::uuid
        ORDER BY id LIMIT ${BATCH}`,
      batchParams.values,
    );
    if (batch.length === 0) break;
    after = (batch[batch.length - 1] as { id: string }).id;
    const done = await changeJobs(
      ctx.services.sql,
      actionChange(
        ctx,
        action,
        batch.map((job) => job.id),
        args,
      ),
    );
    changed += done.length;
    const doneIds = new Set(done.map((job) => job.id));
    for (const job of batch) {
      if (doneIds.has(job.id) || reported.has(job.id) || skips.length >= MAX_REPORTED_SKIPS) continue;
      reported.add(job.id);
      skips.push({
        ...job,
        code: 'CONFLICT',
        reason: fromOf(action.transitions).includes(job.status)
          ? 'It changed while the action ran; reload and try again'
          : `Cannot ${action.verb} a job that is ${job.status}`,
      });
    }
  }
  return { dryRun, matched, changed, skippedCount: Math.max(0, matched - changed), skipped: skips };
}

function skipOf<A>(job: Candidate, action: UserAction<A>): BulkSkip {
  return job.permitted
    ? { id: job.id, name: job.name, status: job.status, code: 'CONFLICT', reason: `Cannot ${action.verb} a job that is ${job.status}` }
    : { id: job.id, name: job.name, status: job.status, code: 'FORBIDDEN', reason: `You may not ${action.verb} this job` };
}
