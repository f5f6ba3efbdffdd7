import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Job attributes: string labels the creator sets (environment, connector, streams, ...), as
 * Temporal's search attributes and Kubernetes labels are, and the filters on them and on the
 * asset. A filter on attributes is containment (`attributes @> '{"k":"v",...}'`, every pair
 * must match), served by a GIN index in `jsonb_path_ops` (one hashed entry per key/value path:
 * smaller than the default opclass, and containment is the only operator the API uses). The
 * asset filter is exact, on (asset, created_at, id): a page of one asset's jobs by creation
 * time is one index range. Neither index covers a column workers update, so progress updates
 * stay HOT.
 *
 * The column comes with a constant default (a catalog change, no rewrite); the indexes are
 * built CONCURRENTLY (so not in a transaction), and a build that an interruption left INVALID
 * is dropped and built again, as FilterOrderIndexes does.
 */
export class JobAttributes1796573600544 implements MigrationInterface {
  name = 'JobAttributes1796573600544';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN IF NOT EXISTS attributes jsonb NOT NULL DEFAULT '{}'::jsonb`);
    for (const [name, definition] of ATTRIBUTE_INDEXES) {
      const [state] = (await q.query(
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`,
        [name],
      )) as Array<{ valid: boolean }>;
      if (state?.valid === true) continue;
      if (state !== undefined) await q.query(`DROP INDEX CONCURRENTLY ${name}`);
      await q.query(`CREATE INDEX CONCURRENTLY ${name} ON jobs ${definition}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of ATTRIBUTE_INDEXES) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
    await q.query(`ALTER TABLE jobs DROP COLUMN IF EXISTS attributes`);
  }
}

export const ATTRIBUTE_INDEXES: ReadonlyArray<readonly [string, string]> = [
  ['jobs_attributes_idx', 'USING gin (attributes jsonb_path_ops)'],
  ['jobs_asset_created_idx', '(asset, created_at, id) WHERE asset IS NOT NULL'],
];
