import type { Context } from '../../graphql/context';
import { BadUserInputError } from '../../graphql/errors';
import { SqlParams } from '../../db/sql-params';
import { jobPredicate } from '../../permissions/rules-to-sql';
import { JOB_COLUMNS, type JobRow } from '../job.row';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertJobId(id: string, field = 'id'): string {
  if (!UUID.test(id)) throw new BadUserInputError(`${field} must be a job id (a UUID), got ${JSON.stringify(id.slice(0, 100))}`, field);
  return id.toLowerCase();
}

/** The job if it exists and the viewer may see it: a job they may not see does not exist for them. */
export async function findVisibleJob(ctx: Context, id: string): Promise<JobRow | undefined> {
  const params = new SqlParams();
  const idParam = params.add(id);
  const visible = jobPredicate(ctx.ability, 'view_monitor', params);
  return ctx.services.sql.one<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ${idParam} AND ${visible}`, params.values);
}
