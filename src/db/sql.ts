import type { Pool, PoolClient, QueryResultRow } from 'pg';

/**
 * The small surface every SQL file of the app uses: a pool or a transaction's client.
 * Statements are always parameterised; no value is ever spliced into SQL text.
 */
export interface Sql {
  rows<R extends QueryResultRow>(text: string, params?: readonly unknown[], options?: StatementOptions): Promise<R[]>;
  one<R extends QueryResultRow>(text: string, params?: readonly unknown[], options?: StatementOptions): Promise<R | undefined>;
  /** Runs a statement and answers the number of rows it affected. */
  execute(text: string, params?: readonly unknown[]): Promise<number>;
}

export interface StatementOptions {
  /**
   * A hot read: once the same text has run a few times, it runs as a named prepared statement,
   * parsed and planned by each connection once (Postgres may then keep a generic plan) instead
   * of for every request. Only for reads whose select list is explicit (no `*`): a prepared
   * statement whose result columns change under it fails.
   */
  readonly prepare?: boolean;
}

type Client = Pool | PoolClient;

/** Runs of a text before it is prepared: a one-off statement is not worth a connection's memory. */
const PREPARE_AFTER = 3;
/** Names handed out in all: each connection may end up holding this many prepared statements. */
const MAX_PREPARED = 200;
const preparedNames = new Map<string, string>();
const runsBeforePrepared = new Map<string, number>();

/** The statement's name once it is hot and while names last; undefined: run it unnamed. */
function preparedName(text: string): string | undefined {
  const name = preparedNames.get(text);
  if (name !== undefined || preparedNames.size >= MAX_PREPARED) return name;
  const runs = (runsBeforePrepared.get(text) ?? 0) + 1;
  if (runs < PREPARE_AFTER) {
    if (runsBeforePrepared.size >= 10 * MAX_PREPARED) runsBeforePrepared.clear();
    runsBeforePrepared.set(text, runs);
    return undefined;
  }
  runsBeforePrepared.delete(text);
  const named = `jw_hot_${preparedNames.size}`;
  preparedNames.set(text, named);
  return named;
}

function run<R extends QueryResultRow>(client: Client, text: string, params: readonly unknown[], options: StatementOptions | undefined) {
  const name = options?.prepare === true ? preparedName(text) : undefined;
  return name === undefined ? client.query<R>(text, params as unknown[]) : client.query<R>({ name, text, values: params as unknown[] });
}

export function sqlOf(client: Client): Sql {
  return {
    async rows<R extends QueryResultRow>(text: string, params: readonly unknown[] = [], options?: StatementOptions) {
      const result = await run<R>(client, text, params, options);
      return result.rows;
    },
    async one<R extends QueryResultRow>(text: string, params: readonly unknown[] = [], options?: StatementOptions) {
      const result = await run<R>(client, text, params, options);
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
