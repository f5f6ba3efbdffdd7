import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../app/context';
import { BadUserInputError } from '../../errors';
import { SqlParams } from '../../db/sql-params';
import { jobPredicate } from '../../permissions/rules-to-sql';
import { JOB_TYPE_PATTERN } from '../create-job.input';
import { Job } from '../job.types';
import { JobTypeStats, SLOW_MIN_RUNS, jobTypeStats } from './job-type-stats';
import { DateTimeScalar } from '../../graphql/scalars';
import { jobTypeTrend, MAX_TREND_BUCKETS, TrendBucket, TrendPoint } from './job-type-trend';

@Resolver(() => Job)
export class JobStatsResolver {
  @Query(() => JobTypeStats, {
    description: 'Count, success rate and p50/p95 duration of the recent finished runs of a job type the viewer may see.',
  })
  async jobTypeStats(
    @Ctx() ctx: Context,
    @Arg('type', () => String, { description: 'The job type.' }) type: string,
  ): Promise<JobTypeStats> {
    if (!JOB_TYPE_PATTERN.test(type) || type.length > 100) throw new BadUserInputError('type is not a job type', 'type');
    const params = new SqlParams();
    const visible = jobPredicate(ctx.ability, 'view_monitor', params);
    const [stats] = await jobTypeStats(ctx.services.sql, [type], params, visible);
    return stats as JobTypeStats;
  }

  @Query(() => [TrendPoint], {
    description: `How a job type's runs went over time, one point per hour or day of [from, to) (at most ${MAX_TREND_BUCKETS}), empty ones included: runs, succeeded, failed and p50/p95 duration of the runs the viewer may see that finished in each.`,
  })
  async jobTypeTrend(
    @Ctx() ctx: Context,
    @Arg('type', () => String, { description: 'The job type.' }) type: string,
    @Arg('bucket', () => TrendBucket, { description: 'HOUR or DAY.' }) bucket: TrendBucket,
    @Arg('from', () => DateTimeScalar, { description: 'The start of the window (aligned down to its bucket).' }) from: Date,
    @Arg('to', () => DateTimeScalar, { nullable: true, description: 'The end of the window, exclusive; now when omitted.' })
    to: Date | null,
  ): Promise<TrendPoint[]> {
    if (!JOB_TYPE_PATTERN.test(type) || type.length > 100) throw new BadUserInputError('type is not a job type', 'type');
    const params = new SqlParams();
    const visible = jobPredicate(ctx.ability, 'view_monitor', params);
    return jobTypeTrend(ctx.services.sql, type, bucket, from, to ?? new Date(), params, visible);
  }

  @FieldResolver(() => Boolean, {
    description: `True while the job runs and has already run longer than its type's p95 duration, as jobTypeStats gives it to the viewer, once at least ${SLOW_MIN_RUNS} of the type's recent runs ran: worth a look.`,
  })
  async slowerThanUsual(@Root() job: Job, @Ctx() ctx: Context): Promise<boolean> {
    if (job.status !== 'RUNNING' || job.duration === null) return false;
    // The loader's p95 is null while fewer than SLOW_MIN_RUNS runs ran (slowThreshold).
    const p95 = await ctx.loaders.typeP95.load(job.type);
    return p95 !== null && job.duration > p95;
  }
}
