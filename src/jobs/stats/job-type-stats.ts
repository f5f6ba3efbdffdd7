import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { Sql } from '../../db/sql';
import type { SqlParams } from '../../db/sql-params';
import { TAB_STATUSES } from '../job-status';
import { statusesSql } from '../transitions/transition-sql';

/** "Recent runs": the last this-many finished runs of a type within the window below. */
export const RECENT_RUNS = 1000;
export const RECENT_DAYS = 30;
/**
 * A type's p95 says what "longer than usual" is once this many of its recent runs ran: the
 * daemon's SLOWER_THAN_USUAL event and Job.slowerThanUsual both wait for it.
 */
export const SLOW_MIN_RUNS = 10;

@ObjectType({ description: `How a job type has been doing: its last ${RECENT_RUNS} finished runs within ${RECENT_DAYS} days.` })
export class JobTypeStats {
  @Field(() => String, { description: 'The job type.' })
  type!: string;

  @Field(() => Int, { description: 'Finished runs counted.' })
  count!: number;

  @Field(() => Int, { description: 'Of which SUCCEEDED.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Of which FAILED, ABENDED or EXPIRED.' })
  failed!: number;

  @Field(() => Float, { nullable: true, description: 'succeeded / count, 0 to 1; null without runs.' })
  successRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Median duration of the runs that ran, in seconds.' })
  p50Duration!: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile duration of the runs that ran, in seconds.' })
  p95Duration!: number | null;
}

/** The stats, with how many of the runs ran (have a duration): not part of the schema. */
export type TypeStats = JobTypeStats & { readonly ran: number };

/** The duration past which a running job of this type is slower than usual; null while too few runs ran. */
export function slowThreshold(stats: TypeStats): number | null {
  return stats.ran >= SLOW_MIN_RUNS ? stats.p95Duration : null;
}

interface StatsRow {
  type: string;
  count: number;
  ran: number;
  succeeded: number;
  failed: number;
  p50: number | null;
  p95: number | null;
}

/**
 * Counts and duration percentiles over the recent finished runs of some types, restricted by
 * `visible` (a predicate over `jobs`). Each type's runs are read newest first from the
 * (type, created_at) index and cut at RECENT_RUNS.
 */
export async function jobTypeStats(sql: Sql, types: readonly string[], params: SqlParams, visible: string): Promise<TypeStats[]> {
  const rows = await sql.rows<StatsRow>(
    `SELECT t.type, count(r.id)::int AS count,
            count(r.seconds)::int AS ran,
            count(r.id) FILTER (WHERE r.status IN (${statusesSql(TAB_STATUSES.COMPLETED)}))::int AS succeeded,
            count(r.id) FILTER (WHERE r.status IN (${statusesSql(TAB_STATUSES.FAILED)}))::int AS failed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY r.seconds) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY r.seconds) AS p95
       FROM unnest(${params.add(types)}::text[]) AS t(type)
       LEFT JOIN LATERAL (
         SELECT id, status, extract(epoch FROM finished_at - started_at) AS seconds FROM jobs
          WHERE jobs.type = t.type AND created_at > now() - make_interval(days => ${params.add(RECENT_DAYS)})
            AND finished_at IS NOT NULL AND ${visible}
          ORDER BY created_at DESC LIMIT ${params.add(RECENT_RUNS)}
       ) r ON true
      GROUP BY t.type`,
    params.values,
  );
  const byType = new Map(rows.map((row) => [row.type, row]));
  return types.map((type) => {
    const row = byType.get(type);
    const count = row?.count ?? 0;
    return {
      type,
      count,
      succeeded: row?.succeeded ?? 0,
      failed: row?.failed ?? 0,
      ran: row?.ran ?? 0,
      successRate: count === 0 ? null : (row?.succeeded ?? 0) / count,
      p50Duration: row?.p50 == null ? null : Math.round(row.p50 * 1000) / 1000,
      p95Duration: row?.p95 == null ? null : Math.round(row.p95 * 1000) / 1000,
    };
  });
}
