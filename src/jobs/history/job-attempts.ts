import DataLoader from 'dataloader';
import { Ctx, Field, Float, Int, ObjectType, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../app/context';
import type { Loaders } from '../loaders';
import type { Sql } from '../../db/sql';
import { DateTimeScalar } from '../../graphql/scalars';
import { JobStatus, JobStep } from '../job-status';
import { Job, JobError } from '../job.types';

@ObjectType({ simpleResolvers: true, description: 'One run of a job: the first, then one more per restart.' })
export class JobAttempt {
  @Field(() => Int, { description: 'Which run: 1, 2, ...' })
  attempt!: number;

  @Field(() => JobStatus, { description: 'How the attempt ended; for the current attempt, the job status now.' })
  status!: JobStatus;

  @Field(() => JobStep, { nullable: true, description: 'The step it was at when it ended (or is at now).' })
  step!: JobStep | null;

  @Field(() => String, { nullable: true, description: 'The worker that ran it; null if none claimed it.' })
  workerId!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When a worker started it; null if it never ran.' })
  startedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it reached a terminal status.' })
  finishedAt!: Date | null;

  @Field(() => Float, { nullable: true, description: 'Seconds it ran (until now while it runs); null if it never ran.' })
  duration!: number | null;

  @Field(() => JobError, { nullable: true, description: 'Its error and stack trace, if it failed.' })
  error!: JobError | null;
}

interface AttemptRow {
  job_id: string;
  attempt: number;
  status: JobStatus;
  step: JobStep;
  worker_id: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  error_message: string | null;
  error_stack: string | null;
}

/** Ended attempts of many jobs in one query, newest first. Keyed by the request's loaders, so per request (and per subscription event). */
const loaders = new WeakMap<Loaders, DataLoader<string, AttemptRow[]>>();

function endedAttempts(ctx: Context): DataLoader<string, AttemptRow[]> {
  let loader = loaders.get(ctx.loaders);
  if (loader === undefined) {
    loader = endedAttemptsLoader(ctx.services.sql);
    loaders.set(ctx.loaders, loader);
  }
  return loader;
}

function endedAttemptsLoader(sql: Sql): DataLoader<string, AttemptRow[]> {
  return new DataLoader<string, AttemptRow[]>(async (jobIds) => {
    const rows = await sql.rows<AttemptRow>(
      `SELECT job_id, attempt, status, step, worker_id, started_at, finished_at, error_message, error_stack
         FROM job_attempts WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, attempt DESC`,
      [jobIds],
    );
    const byJob = new Map<string, AttemptRow[]>(jobIds.map((id) => [id, []]));
    for (const row of rows) byJob.get(row.job_id)?.push(row);
    return jobIds.map((id) => byJob.get(id) ?? []);
  });
}

function toAttempt(row: AttemptRow): JobAttempt {
  return {
    attempt: row.attempt,
    status: row.status,
    step: row.step,
    workerId: row.worker_id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    duration: row.started_at === null || row.finished_at === null ? null : (row.finished_at.getTime() - row.started_at.getTime()) / 1000,
    error: row.error_message === null ? null : { message: row.error_message, stack: row.error_stack },
  };
}

@Resolver(() => Job)
export class JobAttemptsResolver {
  @FieldResolver(() => [JobAttempt], {
    description:
      'Every attempt, newest first: the current one (as the job is now), then each earlier one as it ended, with its error and stack trace, kept across restarts.',
  })
  async attempts(@Root() job: Job, @Ctx() ctx: Context): Promise<JobAttempt[]> {
    const current: JobAttempt = {
      attempt: job.attempt,
      status: job.status,
      step: job.step,
      workerId: job.workerId,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      duration: job.duration,
      error: job.error,
    };
    const ended = await endedAttempts(ctx).load(job.id);
    return [current, ...ended.filter((row) => row.attempt < job.attempt).map(toAttempt)];
  }
}
