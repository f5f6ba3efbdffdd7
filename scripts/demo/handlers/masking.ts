/** masking (Delphix): per-table tasks with rows, masked one table after the other. */
import { between, fmt, randomInt, seconds, sleep } from '../util';
import { type Handler, simulationOf, text } from './config';

interface TableSpec {
  readonly name: string;
  readonly rows: number;
}

const DEFAULT_TABLES = ['CUSTOMERS', 'ORDERS', 'PAYMENTS', 'ADDRESSES', 'CONTACTS'];

function tablesOf(config: Record<string, unknown>): TableSpec[] {
  const raw = Array.isArray(config['tables']) ? (config['tables'] as unknown[]) : [];
  const tables: TableSpec[] = [];
  for (const entry of raw) {
    if (typeof entry === 'string') tables.push({ name: entry, rows: randomInt(50_000, 900_000) });
    else if (typeof entry === 'object' && entry !== null) {
      const { name, rows } = entry as { name?: unknown; rows?: unknown };
      if (typeof name === 'string' && name !== '') {
        tables.push({ name, rows: typeof rows === 'number' && rows > 0 ? Math.round(rows) : randomInt(50_000, 900_000) });
      }
    }
  }
  return tables.length > 0 ? tables.slice(0, 50) : DEFAULT_TABLES.map((name) => ({ name, rows: randomInt(50_000, 900_000) }));
}

class MaskingError extends Error {
  override readonly name = 'MaskingError';
  constructor(
    message: string,
    readonly table: string,
    readonly row: number,
  ) {
    super(message);
  }
}

async function fetchBatch(table: string, row: number): Promise<never> {
  await Promise.resolve();
  throw new MaskingError(
    `ORA-01555: snapshot too old: rollback segment number 12 with name "_SYSSMU12_1849320$" too small (table ${table}, batch starting at row ${fmt(row)})`,
    table,
    row,
  );
}

export const masking: Handler = async (job, ctx) => {
  const tables = tablesOf(job.config);
  const totalRows = tables.reduce((sum, table) => sum + table.rows, 0);
  const connector = text(job.config, 'connector', 'oracle-19c');
  const ruleSet = text(job.config, 'ruleSet', 'PII default');
  const failing =
    simulationOf(job, { failure: 0.1 }) === 'failure' ? tables[randomInt(Math.min(1, tables.length - 1), tables.length - 1)] : undefined;
  const budgetMs = between(30_000, 70_000);

  // The job's figures (done, total, rate) come from its tasks: the unit only is set here.
  ctx.progress({
    unit: 'rows',
    phase: 'masking',
    message: `Masking ${tables.length} tables, ${fmt(totalRows)} rows, rule set "${ruleSet}"`,
  });
  for (const table of tables) ctx.task(table.name, { status: 'WAITING', done: 0, total: table.rows, unit: 'rows' });
  ctx.log(`Connected to ${connector}; ${tables.length} tables to mask with rule set "${ruleSet}"`);
  await sleep(between(1_500, 3_000), ctx.signal);

  for (const [index, table] of tables.entries()) {
    const tableMs = Math.max(3_000, (budgetMs * table.rows) / totalRows);
    const started = Date.now();
    ctx.task(table.name, { status: 'PROCESSING', message: 'Masking sensitive columns' });
    ctx.progress({ message: `Masking ${table.name} (table ${index + 1} of ${tables.length})` });
    const ticks = Math.max(4, Math.round(tableMs / 700));
    for (let tick = 1; tick <= ticks; tick += 1) {
      await sleep((tableMs / ticks) * between(0.8, 1.2), ctx.signal);
      const done = Math.round((table.rows * tick) / ticks);
      if (table === failing && tick > ticks / 2) {
        try {
          await fetchBatch(table.name, done);
        } catch (error) {
          ctx.task(table.name, { status: 'FAILED', done, message: (error as Error).message });
          ctx.log(`${table.name}: ${(error as Error).message}`);
          throw error;
        }
      }
      ctx.task(table.name, { done });
    }
    ctx.task(table.name, { status: 'COMPLETED', done: table.rows, message: `${fmt(table.rows)} rows masked` });
    ctx.log(`${table.name}: ${fmt(table.rows)} rows masked in ${seconds(Date.now() - started)}`);
  }
  return `Masked ${fmt(totalRows)} rows in ${tables.length} tables`;
};
