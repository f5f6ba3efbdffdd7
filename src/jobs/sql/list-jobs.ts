import type { Sql } from '../../db/sql';
import { SqlParams } from '../../db/sql-params';
import type { JobOrderField, OrderDirection } from '../job.enums';
import { JOB_COLUMNS, type JobRow } from '../job.row';
import { decodeCursor } from '../cursor';
import { PERMISSIONS_VERSION_COLUMN } from '../../permissions/permissions-version';

/** The sort expression of each order; each matches an index expression of the Init migration. */
const SORT_KEY: Readonly<Record<JobOrderField, { expression: string; type: string }>> = {
  CREATED_AT: { expression: 'created_at', type: 'timestamptz' },
  STARTED_AT: { expression: `coalesce(started_at, '-infinity')`, type: 'timestamptz' },
  FINISHED_AT: { expression: `coalesce(finished_at, '-infinity')`, type: 'timestamptz' },
  NAME: { expression: 'name', type: 'text' },
};

export interface ListJobsQuery {
  /** Builds the WHERE conditions (visibility and filter) into the given params. */
  readonly where: (params: SqlParams) => string[];
  readonly field: JobOrderField;
  readonly direction: OrderDirection;
  readonly first: number;
  readonly after: string | null;
  /** The select list (jobSelectList); every reader column when omitted. */
  readonly columns?: string;
  /** Also answer the permissions version in each row (`permissions_version`), read in the statement's snapshot. */
  readonly withPermissionsVersion?: boolean;
}

/** The statement of one page by keyset: `first + 1` rows, to know whether another page follows. */
export function listJobsStatement(query: ListJobsQuery): { text: string; values: unknown[] } {
  const params = new SqlParams();
  const conditions = query.where(params);
  const key = SORT_KEY[query.field];
  const direction = query.direction === 'ASC' ? 'ASC' : 'DESC';
  if (query.after !== null) {
    const cursor = decodeCursor(query.after, query.field, query.direction);
    const value = cursor.v ?? '-infinity';
    conditions.push(
      `(${key.expression}, id) ${direction === 'ASC' ? '>' : '<'} (${params.add(value)}::${key.type}, ${params.add(cursor.id)}::uuid)`,
    );
  }
  const where = conditions.length === 0 ? 'TRUE' : conditions.join(' AND ');
  const columns = query.columns ?? JOB_COLUMNS;
  const version = query.withPermissionsVersion === true ? `, ${PERMISSIONS_VERSION_COLUMN}` : '';
  const text = `SELECT ${columns}${version} FROM jobs WHERE ${where}
      ORDER BY ${key.expression} ${direction}, id ${direction} LIMIT ${params.add(query.first + 1)}`;
  return { text, values: params.values };
}

/** One page of jobs by keyset. */
export async function listJobs(sql: Sql, query: ListJobsQuery): Promise<{ rows: JobRow[]; hasNextPage: boolean }> {
  const statement = listJobsStatement(query);
  const rows = await sql.rows<JobRow>(statement.text, statement.values);
  const hasNextPage = rows.length > query.first;
  if (hasNextPage) rows.pop();
  return { rows, hasNextPage };
}

export async function countJobs(sql: Sql, where: (params: SqlParams) => string[]): Promise<number> {
  const params = new SqlParams();
  const conditions = where(params);
  const row = await sql.one<{ count: number }>(
    `SELECT count(*)::int AS count FROM jobs WHERE ${conditions.length === 0 ? 'TRUE' : conditions.join(' AND ')}`,
    params.values,
  );
  return row?.count ?? 0;
}

export async function countJobsByStatus(
  sql: Sql,
  where: (params: SqlParams) => string[],
): Promise<Array<{ status: string; count: number }>> {
  const params = new SqlParams();
  const conditions = where(params);
  return sql.rows<{ status: string; count: number }>(
    `SELECT status, count(*)::int AS count FROM jobs WHERE ${conditions.length === 0 ? 'TRUE' : conditions.join(' AND ')}
      GROUP BY status`,
    params.values,
  );
}
