import type { Sql } from '../../db/sql';

/** The step a job is at (undefined: no such job); for explaining a refused step change. */
export async function findJobStep(sql: Sql, jobId: string): Promise<string | undefined> {
  const row = await sql.one<{ step: string }>('SELECT step FROM jobs WHERE id = $1', [jobId]);
  return row?.step;
}
