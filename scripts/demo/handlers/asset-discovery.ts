/** asset-discovery (AnomalyArmor): schemas as tasks; sometimes a real error with a stack trace. */
import { between, randomInt, sleep } from '../util';
import { type Handler, simulationOf, strings, text } from './config';

class WarehouseError extends Error {
  override readonly name = 'WarehouseError';
  constructor(
    message: string,
    readonly sqlState: string,
  ) {
    super(message);
  }
}

async function describeTable(schema: string, table: number, role: string): Promise<void> {
  await Promise.resolve();
  throw new WarehouseError(
    `SQL access control error: Insufficient privileges to operate on schema '${schema}' (role ${role}, while describing table #${table}) [SQLSTATE 42501]`,
    '42501',
  );
}

async function introspectSchema(schema: string, table: number, role: string): Promise<void> {
  await describeTable(schema, table, role);
}

export const assetDiscovery: Handler = async (job, ctx) => {
  const warehouse = text(job.config, 'warehouse', 'snowflake');
  const database = text(job.config, 'database', 'ANALYTICS');
  const role = text(job.config, 'role', 'ANOMALYARMOR_READER');
  const schemas = strings(job.config, 'schemas', ['PUBLIC', 'FINANCE', 'MARKETING', 'STAGING']).map((name) => ({
    name,
    tables: randomInt(8, 24),
  }));
  const failing = simulationOf(job, { failure: 0.3 }) === 'failure';
  const failAt = randomInt(1, schemas.length - 1);

  ctx.progress({ unit: 'tables', phase: 'connecting', message: `Connecting to ${warehouse} ${database} as ${role}` });
  await sleep(between(1_500, 2_500), ctx.signal);
  for (const schema of schemas) ctx.task(schema.name, { status: 'WAITING', done: 0, total: schema.tables, unit: 'tables' });
  ctx.progress({ phase: 'analyzing', message: `Found ${schemas.length} schemas` });
  ctx.log(`Found ${schemas.length} schemas, ${schemas.reduce((sum, schema) => sum + schema.tables, 0)} tables in ${database}`);

  for (const [index, schema] of schemas.entries()) {
    ctx.task(schema.name, { status: 'PROCESSING', message: 'Reading columns, keys and relationships' });
    for (let table = 1; table <= schema.tables; table += 1) {
      await sleep(between(350, 900), ctx.signal);
      if (failing && index === failAt && table > schema.tables / 3) {
        try {
          await introspectSchema(schema.name, table, role);
        } catch (error) {
          ctx.task(schema.name, { status: 'FAILED', done: table - 1, message: (error as Error).message });
          throw error;
        }
      }
      ctx.task(schema.name, { done: table });
    }
    ctx.task(schema.name, { status: 'COMPLETED', done: schema.tables, message: `${schema.tables} tables discovered` });
  }
  return `Discovered ${schemas.reduce((sum, schema) => sum + schema.tables, 0)} tables in ${schemas.length} schemas of ${database}`;
};
