import type { Context } from '../../app/context';
import { BadUserInputError } from '../../errors';
import { SqlParams } from '../../db/sql-params';
import { jobPredicate } from '../../permissions/rules-to-sql';
import { PERMISSIONS_VERSION_COLUMN } from '../../permissions/permissions-version';
import { JOB_COLUMNS, type JobRow } from '../job.row';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertJobId(id: string, field = 'id'): string {
  if (!UUID.test(id)) throw new BadUserInputError(`${field} must be a job id (a UUID), got ${JSON.stringify(id.slice(0, 100))}`, field);
  return id.toLowerCase();
}

export interface FindJobOptions {
  /** The select list (jobSelectList); every reader column when omitted. */
  readonly columns?: string;
  /** Also answer the permissions version (`permissions_version`), read in the statement's snapshot. */
  readonly withPermissionsVersion?: boolean;
}

/** The job if it exists and the viewer may see it: a job they may not see does not exist for them. */
export async function findVisibleJob(ctx: Context, id: string, options: FindJobOptions = {}): Promise<JobRow | undefined> {
  const params = new SqlParams();
  const idParam = params.add(id);
  const visible = jobPredicate(ctx.ability, 'view_monitor', params);
  const version = options.withPermissionsVersion === true ? `, ${PERMISSIONS_VERSION_COLUMN}` : '';
  return ctx.services.sql.one<JobRow>(
    `SELECT ${options.columns ?? JOB_COLUMNS}${version} FROM jobs WHERE id = ${idParam} AND ${visible}`,
    params.values,
    { prepare: true },
  );
}
