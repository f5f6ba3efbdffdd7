import type { Pool, PoolClient, QueryResultRow } from 'pg';

/**
 * The small surface every SQL file of the app uses: a pool or a transaction's client.
 * Statements are always parameterised; no value is ever spliced into SQL text.
 */
export interface Sql {
  rows<R extends QueryResultRow>(text: string, params?: readonly unknown[]): Promise<R[]>;
  one<R extends QueryResultRow>(text: string, params?: readonly unknown[]): Promise<R | undefined>;
  /** Runs a statement and answers the number of rows it affected. */
  execute(text: string, params?: readonly unknown[]): Promise<number>;
}

type Client = Pool | PoolClient;

export function sqlOf(client: Client): Sql {
  return {
    async rows<R extends QueryResultRow>(text: string, params: readonly unknown[] = []) {
      const result = await client.query<R>(text, params as unknown[]);
      return result.rows;
    },
    async one<R extends QueryResultRow>(text: string, params: readonly unknown[] = []) {
      const result = await client.query<R>(text, params as unknown[]);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it (R is generic), the rule thinks not
      return result.rows[0] as R | undefined;
    },
    async execute(text: string, params: readonly unknown[] = []) {
      const result = await client.query(text, params as unknown[]);
      return result.rowCount ?? 0;
    },
  };
}

/** Runs `work` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (tx: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(sqlOf(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection that cannot even roll back is discarded rather than returned to the pool.
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}
