import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { Sql } from '../../db/sql';
import type { SqlParams } from '../../db/sql-params';
import { TAB_STATUSES } from '../job-status';
import { statusesSql } from '../transitions/transition-sql';
import { BadUserInputError } from '../../errors';
import { graphqlEnum } from '../../graphql/graphql-enum';
import { DateTimeScalar } from '../../graphql/scalars';

export const TrendBucket = graphqlEnum('TrendBucket', 'The width of one point of a trend (buckets start on the UTC hour or day).', {
  HOUR: 'One point per hour.',
  DAY: 'One point per day (UTC).',
});
export type TrendBucket = keyof typeof TrendBucket;

/** A window longer than this many buckets is refused (a chart has no use for more points). */
export const MAX_TREND_BUCKETS = 400;
const BUCKET_MS: Readonly<Record<TrendBucket, number>> = { HOUR: 3_600_000, DAY: 86_400_000 };

@ObjectType({ description: 'The runs of a job type that finished in one bucket of time.' })
export class TrendPoint {
  @Field(() => DateTimeScalar, { description: 'Where the bucket starts (UTC); it ends where the next starts.' })
  start!: Date;

  @Field(() => Int, { description: 'Runs that finished in the bucket (any terminal status).' })
  runs!: number;

  @Field(() => Int, { description: 'Of which SUCCEEDED.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Of which FAILED, ABENDED or EXPIRED.' })
  failed!: number;

  @Field(() => Float, { nullable: true, description: 'Median duration of those that ran, in seconds; null when none ran.' })
  p50Seconds!: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile duration of those that ran, in seconds; null when none ran.' })
  p95Seconds!: number | null;
}

/** The bucket starts of [from, to): from aligned down to its bucket (UTC), to exclusive. */
export function trendBuckets(bucket: TrendBucket, from: Date, to: Date): { first: Date; count: number } {
  const width = BUCKET_MS[bucket];
  // UTC hours and days are whole multiples of their width since the epoch (no leap seconds in JS time).
  const first = new Date(Math.floor(from.getTime() / width) * width);
  if (to.getTime() <= from.getTime()) throw new BadUserInputError('`to` must be after `from`', 'to');
  const count = Math.ceil((to.getTime() - first.getTime()) / width);
  if (count > MAX_TREND_BUCKETS) {
    throw new BadUserInputError(`the window spans ${count} buckets of one ${bucket.toLowerCase()}; at most ${MAX_TREND_BUCKETS}`, 'from');
  }
  return { first, count };
}

interface TrendRow {
  start: Date;
  runs: number;
  succeeded: number;
  failed: number;
  p50: number | null;
  p95: number | null;
}

/** The trend's one statement (exported for its EXPLAIN test). */
export function trendStatement(
  type: string,
  bucket: TrendBucket,
  from: Date,
  to: Date,
  params: SqlParams,
  visible: string,
): { readonly text: string; readonly values: unknown[] } {
  const { first, count } = trendBuckets(bucket, from, to);
  const unit = params.add(bucket.toLowerCase());
  const text = `WITH runs AS (
       SELECT date_trunc(${unit}, finished_at, 'UTC') AS start, status, extract(epoch FROM finished_at - started_at)::float8 AS seconds
         FROM jobs
        WHERE type = ${params.add(type)} AND finished_at >= ${params.add(first)} AND finished_at < ${params.add(to)} AND ${visible}
     )
     SELECT b.start, count(r.start)::int AS runs,
            count(r.start) FILTER (WHERE r.status IN (${statusesSql(TAB_STATUSES.COMPLETED)}))::int AS succeeded,
            count(r.start) FILTER (WHERE r.status IN (${statusesSql(TAB_STATUSES.FAILED)}))::int AS failed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY r.seconds) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY r.seconds) AS p95
       FROM generate_series(0, ${params.add(count - 1)}::int) AS n
      CROSS JOIN LATERAL (SELECT ${params.add(first)}::timestamptz + n * ${params.add(`${BUCKET_MS[bucket] / 1000} seconds`)}::interval AS start) b
       LEFT JOIN runs r ON r.start = b.start
      GROUP BY b.start ORDER BY b.start`;
  return { text, values: params.values };
}

/**
 * One point per bucket of [from, to), empty buckets included (a chart's axis is continuous): the
 * runs of `type` that finished in it, among those `visible` (a predicate over `jobs`). The runs
 * are one range of the (type, finished_at) index, whatever the table's size.
 */
export async function jobTypeTrend(
  sql: Sql,
  type: string,
  bucket: TrendBucket,
  from: Date,
  to: Date,
  params: SqlParams,
  visible: string,
): Promise<TrendPoint[]> {
  const statement = trendStatement(type, bucket, from, to, params, visible);
  const rows = await sql.rows<TrendRow>(statement.text, statement.values);
  const round = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);
  return rows.map((row) => ({
    start: row.start,
    runs: row.runs,
    succeeded: row.succeeded,
    failed: row.failed,
    p50Seconds: round(row.p50),
    p95Seconds: round(row.p95),
  }));
}
