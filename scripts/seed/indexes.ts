/**
 * The secondary indexes of `jobs`, dropped for a load into an empty table and rebuilt afterwards
 * from their own catalog definitions.
 */
import type { Pool } from 'pg';
import { bulk, onConnections, seconds } from './bulk-load';

export interface IndexDefinition {
  readonly name: string;
  readonly definition: string;
}

export async function jobIndexes(pool: Pool): Promise<IndexDefinition[]> {
  const result = await pool.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = 'jobs' AND indexname <> 'jobs_pkey' ORDER BY indexname`,
  );
  return result.rows.map((row) => ({ name: row.indexname, definition: row.indexdef }));
}

/** Drops the indexes in one statement. */
export async function dropIndexes(pool: Pool, indexes: readonly IndexDefinition[]): Promise<void> {
  await pool.query(`DROP INDEX ${indexes.map((index) => `"${index.name.replace(/"/g, '""')}"`).join(', ')}`);
}

/**
 * Recreates dropped indexes from their catalog definitions, on parallel connections, slowest
 * (GIN) first so that it overlaps the B-trees. `IF NOT EXISTS` makes a retry after a partial
 * failure safe.
 */
export async function recreateIndexes(pool: Pool, indexes: readonly IndexDefinition[], parallel: number, log: (msg: string) => void) {
  const ordered = [...indexes].sort((a, b) => Number(/USING gin/i.test(b.definition)) - Number(/USING gin/i.test(a.definition)));
  await onConnections(pool, parallel, ordered, async (client, index) => {
    const started = Date.now();
    const statement = index.definition.replace(/^CREATE (UNIQUE )?INDEX /i, 'CREATE $1INDEX IF NOT EXISTS ');
    // Concurrent builds share the CPUs; parallel workers would only compete with each other.
    const settings: Record<string, string> = { maintenance_work_mem: '512MB' };
    if (parallel > 1) settings['max_parallel_maintenance_workers'] = '0';
    await bulk(client, settings, () => client.query(statement));
    log(`  index ${index.name}: ${seconds(started)} s`);
  });
}
