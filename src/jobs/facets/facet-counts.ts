/**
 * The SQL of jobFacets and of the rollup's upkeep, free of GraphQL types (the benchmark's floor
 * runs it as it is).
 */
import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import type { AppAbility } from '../../permissions/ability';
import { type ColumnMap, jobPredicate } from '../../permissions/rules-to-sql';
import type { JobFilter } from '../job-filter.input';
import { jobFilterConditions } from '../job-filter.sql';
import type { JobFacets } from './job-facets.types';

/** Values per facet: the dropdowns' top 100 by count. */
export const FACET_LIMIT = 100;

/** The columns permission rules may name, as job_facet_counts stores them (no approvers). */
const ROLLUP_COLUMNS: ColumnMap = {
  scope: { column: 'scope', array: false },
  type: { column: 'type', array: false },
  ownerId: { column: 'owner_id', array: false },
};

/** The filter fields the rollup can answer: those on its four columns. */
const ROLLUP_FILTER_FIELDS = new Set(['types', 'owners', 'statuses', 'tab', 'scope']);

/**
 * Folds each key's deltas into one row (at most 10,000 keys per call; the daemon calls it each
 * tick, under its lock, so two foldings never race). Deltas inserted meanwhile are not in the
 * DELETE's snapshot and stay: every sum is the same before and after.
 */
export const COMPACT_FACET_COUNTS_SQL = `
  WITH keys AS (
    SELECT scope, type, owner_id, status FROM job_facet_counts GROUP BY 1, 2, 3, 4 HAVING count(*) > 1 LIMIT 10000
  ),
  moved AS (
    DELETE FROM job_facet_counts c USING keys k
     WHERE c.scope = k.scope AND c.type = k.type AND c.owner_id = k.owner_id AND c.status = k.status
    RETURNING c.scope, c.type, c.owner_id, c.status, c.n
  )
  INSERT INTO job_facet_counts (scope, type, owner_id, status, n)
  SELECT scope, type, owner_id, status, sum(n) FROM moved GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0`;

/** Every key's count for the viewer and the filter: from the rollup when it can answer, else from the jobs themselves. */
function keyedCounts(
  ability: AppAbility,
  filter: JobFilter | null | undefined,
  params: SqlParams,
): { source: 'rollup' | 'jobs'; sql: string } {
  const conditions = jobFilterConditions(filter, params);
  const filterFits = Object.entries(filter ?? {}).every(([field, value]) => value == null || ROLLUP_FILTER_FIELDS.has(field));
  if (filterFits) {
    // A rule on a column the rollup lacks (approvers) cannot be evaluated there: count the jobs.
    const mark = params.values.length;
    try {
      const visible = jobPredicate(ability, 'view_monitor', params, undefined, ROLLUP_COLUMNS);
      return {
        source: 'rollup',
        sql: `SELECT scope, type, owner_id, status, sum(n) AS n FROM job_facet_counts
               WHERE ${[visible, ...conditions].join(' AND ')} GROUP BY 1, 2, 3, 4 HAVING sum(n) > 0`,
      };
    } catch {
      params.values.length = mark;
    }
  }
  const visible = jobPredicate(ability, 'view_monitor', params);
  return {
    source: 'jobs',
    sql: `SELECT scope, type, owner_id, status, count(*) AS n FROM jobs WHERE ${[visible, ...conditions].join(' AND ')} GROUP BY 1, 2, 3, 4`,
  };
}

/** The facets' one statement (exported for its tests and the benchmark's floor). */
export function facetsStatement(
  ability: AppAbility,
  filter: JobFilter | null | undefined,
): { text: string; values: unknown[]; source: 'rollup' | 'jobs' } {
  const params = new SqlParams();
  const keyed = keyedCounts(ability, filter, params);
  const text = `WITH keyed AS (${keyed.sql}),
    facets AS (
      SELECT CASE WHEN GROUPING(type) = 0 THEN 'types' WHEN GROUPING(owner_id) = 0 THEN 'owners'
                  WHEN GROUPING(scope) = 0 THEN 'scopes' ELSE 'statuses' END AS facet,
             coalesce(type COLLATE "C", owner_id COLLATE "C", scope COLLATE "C", status COLLATE "C") AS value, sum(n)::bigint AS count
        FROM keyed GROUP BY GROUPING SETS ((type), (owner_id), (scope), (status))
    ),
    ranked AS (SELECT facet, value, count, row_number() OVER (PARTITION BY facet ORDER BY count DESC, value) AS rank FROM facets)
    SELECT facet, value, count::int AS count FROM ranked WHERE rank <= ${FACET_LIMIT} ORDER BY facet, count DESC, value`;
  return { text, values: params.values, source: keyed.source };
}

export async function jobFacets(sql: Sql, ability: AppAbility, filter: JobFilter | null | undefined): Promise<JobFacets> {
  const statement = facetsStatement(ability, filter);
  const rows = await sql.rows<{ facet: keyof JobFacets; value: string; count: number }>(statement.text, statement.values);
  const facets: JobFacets = { types: [], owners: [], scopes: [], statuses: [] };
  for (const row of rows) facets[row.facet].push({ value: row.value, count: row.count });
  return facets;
}
