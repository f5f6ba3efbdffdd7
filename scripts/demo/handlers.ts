/**
 * What the demo's workers do for each kind of job: simulated work with realistic pacing (a job
 * takes 20 to 90 seconds), reported through the worker SDK the way a real worker would.
 * Every wait goes through `sleep(ms, ctx.signal)`, so a cancel stops any job within a heartbeat.
 */
import { JobAbortedError, type ClaimedJob, type JobContext, type JobStep } from '../../src/workers/sdk';
import type { DemoJobType, Simulate } from './job-types';
import { between, chance, fmt, randomInt, say, seconds, sleep } from './util';

export type Handler = (job: ClaimedJob, ctx: JobContext) => Promise<string | void>;

const SIMULATIONS: readonly Simulate[] = ['success', 'failure', 'trap', 'crash'];

/**
 * The outcome the feeder asked for in `config.simulate`, or a random one for jobs created by
 * hand. A rerun (attempt 2 and later) behaves: the cause was "fixed" before retrying.
 */
function simulationOf(job: ClaimedJob, randomly: { failure?: number; crash?: number } = {}): Simulate {
  if (job.attempt > 1) return 'success';
  const asked = job.config['simulate'];
  if (typeof asked === 'string' && (SIMULATIONS as readonly string[]).includes(asked)) return asked as Simulate;
  if (chance(randomly.crash ?? 0)) return 'crash';
  return chance(randomly.failure ?? 0) ? 'failure' : 'success';
}

function text(config: Record<string, unknown>, key: string, fallback: string): string {
  const value = config[key];
  return typeof value === 'string' && value.trim() !== '' ? value : fallback;
}

function strings(config: Record<string, unknown>, key: string, fallback: readonly string[]): string[] {
  const value = config[key];
  const list = Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item !== '') : [];
  return list.length > 0 ? list : [...fallback];
}

// ---------------------------------------------------------------------------------------------
// masking (Delphix): per-table tasks with rows, masked one table after the other
// ---------------------------------------------------------------------------------------------

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

const masking: Handler = async (job, ctx) => {
  const tables = tablesOf(job.config);
  const totalRows = tables.reduce((sum, table) => sum + table.rows, 0);
  const connector = text(job.config, 'connector', 'oracle-19c');
  const ruleSet = text(job.config, 'ruleSet', 'PII default');
  const failing = simulationOf(job, { failure: 0.1 }) === 'failure' ? tables[randomInt(Math.min(1, tables.length - 1), tables.length - 1)] : undefined;
  const budgetMs = between(30_000, 70_000);

  // The job's figures (done, total, rate) come from its tasks: the unit only is set here.
  ctx.progress({ unit: 'rows', phase: 'masking', message: `Masking ${tables.length} tables, ${fmt(totalRows)} rows, rule set "${ruleSet}"` });
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

// ---------------------------------------------------------------------------------------------
// mail-migration: count the messages folder by folder (total unknown), then copy them
// ---------------------------------------------------------------------------------------------

const DEFAULT_FOLDERS = ['INBOX', 'Sent Items', 'Drafts', 'Archive/2023', 'Archive/2024', 'Projects', 'Newsletters'];

const mailMigration: Handler = async (job, ctx) => {
  const mailbox = text(job.config, 'mailbox', 'someone@example.com');
  const source = text(job.config, 'sourceHost', 'imap.example.com');
  const destination = text(job.config, 'destinationHost', 'outlook.office365.com');
  const folders = strings(job.config, 'folders', DEFAULT_FOLDERS);
  if (ctx.secrets === null || typeof ctx.secrets['sourcePassword'] !== 'string') {
    throw new Error(`No source credentials for ${mailbox}: create the job with secrets { sourcePassword, destinationToken }`);
  }
  ctx.log(`Signed in to ${source} as ${mailbox} and to ${destination} (credentials from the job's secrets)`);

  // Counting: each folder must be opened to count its messages; until then the total is
  // unknown and the progress indeterminate. Having reported its own figures (total: null), the
  // job keeps them: the server never sums its folder tasks instead.
  let counted = 0;
  const counts: Array<{ folder: string; messages: number }> = [];
  ctx.progress({ phase: 'counting', unit: 'messages', done: 0, total: null, message: `Counting messages in ${folders.length} folders` });
  for (const [index, folder] of folders.entries()) {
    await sleep(between(1_000, 2_200), ctx.signal);
    const messages = folder === 'INBOX' ? randomInt(3_000, 12_000) : randomInt(150, 6_000);
    counted += messages;
    counts.push({ folder, messages });
    ctx.task(folder, { status: 'WAITING', done: 0, total: messages, unit: 'messages' });
    ctx.progress({ message: `Counting: ${index + 1} of ${folders.length} folders opened, ${fmt(counted)} messages so far` });
    ctx.log(`Counted ${fmt(messages)} messages in ${folder}`);
  }

  // Copying: the total is known now, and done grows.
  ctx.log(`${fmt(counted)} messages in ${folders.length} folders: copying`);
  const budgetMs = between(25_000, 55_000);
  let copied = 0;
  let inFolder = 0;
  ctx.progress({ phase: 'copying', total: counted, done: 0, message: `Copying ${fmt(counted)} messages` });
  try {
    for (const { folder, messages } of counts) {
      const folderMs = Math.max(1_500, (budgetMs * messages) / counted);
      const ticks = Math.max(2, Math.round(folderMs / 600));
      ctx.task(folder, { status: 'PROCESSING' });
      for (let tick = 1; tick <= ticks; tick += 1) {
        await sleep((folderMs / ticks) * between(0.7, 1.3), ctx.signal);
        inFolder = Math.round((messages * tick) / ticks);
        ctx.task(folder, { done: inFolder });
        ctx.progress({ done: copied + inFolder, message: `Copying ${folder}: ${fmt(inFolder)} of ${fmt(messages)}` });
      }
      copied += messages;
      inFolder = 0;
      ctx.task(folder, { status: 'COMPLETED', done: messages, message: `${fmt(messages)} messages copied` });
    }
  } catch (error) {
    if (error instanceof JobAbortedError && error.reason === 'cancelled') {
      ctx.log(`Cancel received: stopped after ${fmt(copied + inFolder)} of ${fmt(counted)} messages; what was copied stays in the destination mailbox`);
      ctx.progress({ message: `Cancelled after ${fmt(copied + inFolder)} of ${fmt(counted)} messages` });
    }
    throw error;
  }
  return `Migrated ${fmt(counted)} messages in ${counts.length} folders for ${mailbox}`;
};

// ---------------------------------------------------------------------------------------------
// deployment (Clarive): PRE, RUN, POST; approval happens before the job is claimed
// ---------------------------------------------------------------------------------------------

class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
}

async function healthCheck(target: string, version: string): Promise<never> {
  await Promise.resolve();
  throw new DeploymentError(`Health check failed on ${target}: GET /healthz answered HTTP 503 three times after deploying ${version}`);
}

const deployment: Handler = async (job, ctx) => {
  const application = text(job.config, 'application', 'app');
  const version = text(job.config, 'version', '1.0.0');
  const previous = text(job.config, 'previousVersion', 'the previous release');
  const changeset = text(job.config, 'changeset', 'CS-0000');
  const targets = strings(job.config, 'targets', ['web-1', 'web-2']);
  const failing = simulationOf(job, { failure: 0.15 }) === 'failure';
  const failAt = targets[Math.min(1, targets.length - 1)];
  const ops: Record<JobStep, string[]> = {
    PRE: [`Check out ${changeset}`, `Build ${application} ${version}`, `Run unit tests`, `Package artifact`],
    RUN: [...targets.map((target) => `Deploy to ${target}`), 'Apply database migrations', 'Smoke tests'],
    POST: ['Notify #deployments', failing ? 'Open an incident' : `Tag release ${version}`],
  };
  const order: JobStep[] = ['PRE', 'RUN', 'POST'];
  const total = order.reduce((sum, step) => sum + ops[step].length, 0);
  // Progress counts operations over the whole pipeline (Clarive: ops run / all ops), so the
  // percentage keeps growing from step to step. A rerun from RUN counts PRE as done.
  let done = order.slice(0, order.indexOf(ctx.step)).reduce((sum, step) => sum + ops[step].length, 0);
  ctx.progress({ unit: 'ops', total, done, message: `Deploying ${application} ${version} (${changeset})` });
  for (const step of order) for (const op of ops[step]) ctx.task(`${step}: ${op}`, { status: 'WAITING' });

  const run = async (step: JobStep, op: string, ms: number) => {
    const name = `${step}: ${op}`;
    ctx.task(name, { status: 'PROCESSING' });
    ctx.progress({ message: `${step} · ${op}` });
    await sleep(ms, ctx.signal);
    ctx.task(name, { status: 'COMPLETED', message: `done in ${seconds(ms)}` });
    done += 1;
    ctx.progress({ done });
  };

  await ctx.runSteps({
    PRE: async () => {
      for (const op of ops.PRE) await run('PRE', op, between(1_500, 3_500));
      ctx.log(`Artifact ${application}-${version}.tar.gz built and tested`);
    },
    RUN: async () => {
      for (const op of ops.RUN) {
        if (failing && op === `Deploy to ${failAt}`) {
          const name = `RUN: ${op}`;
          ctx.task(name, { status: 'PROCESSING' });
          await sleep(between(2_000, 3_000), ctx.signal);
          try {
            await healthCheck(failAt ?? 'web-1', version);
          } catch (error) {
            ctx.task(name, { status: 'FAILED', message: (error as Error).message });
            await ctx.rollback(`${(error as Error).message}; rolling back to ${previous}`);
            for (const target of targets.slice(0, targets.indexOf(failAt ?? '') + 1)) {
              ctx.log(`Rolling back ${target} to ${previous}`);
              await sleep(between(1_500, 2_500), ctx.signal);
            }
            throw error;
          }
        }
        await run('RUN', op, between(2_000, 4_000));
      }
    },
    POST: async (failure) => {
      if (failure !== undefined) ctx.log(`POST runs after a failure: ${failure instanceof Error ? failure.message : String(failure)}`);
      for (const op of ops.POST) await run('POST', op, between(1_000, 2_000));
    },
  });
  return `${application} ${version} deployed to ${targets.join(', ')}`;
};

// ---------------------------------------------------------------------------------------------
// schema-migration (Clarive trap): an error waits for a person's decision, then goes on
// ---------------------------------------------------------------------------------------------

const DEFAULT_MIGRATIONS = ['0041_add_refund_reason', '0042_index_orders_customer', '0043_split_addresses', '0044_drop_legacy_flags'];

const schemaMigration: Handler = async (job, ctx) => {
  const database = text(job.config, 'database', 'app-db');
  const migrations = strings(job.config, 'migrations', DEFAULT_MIGRATIONS).map((name) => ({ name, statements: randomInt(4, 9) }));
  const trapping = simulationOf(job) === 'trap' || (job.config['simulate'] === undefined && job.attempt === 1 && chance(0.5));
  const trapAt = Math.min(migrations.length - 1, 1 + Math.floor(migrations.length / 3));

  ctx.progress({ unit: 'statements', phase: 'migrating', message: `Applying ${migrations.length} migrations to ${database}` });
  for (const migration of migrations) ctx.task(migration.name, { status: 'WAITING', done: 0, total: migration.statements, unit: 'statements' });

  for (const [index, migration] of migrations.entries()) {
    ctx.task(migration.name, { status: 'PROCESSING' });
    ctx.progress({ message: `Applying ${migration.name}` });
    let trapped = false;
    let skipped = false;
    for (let statement = 1; statement <= migration.statements; statement += 1) {
      await sleep(between(700, 1_500), ctx.signal);
      if (trapping && !trapped && index === trapAt && statement === Math.ceil(migration.statements / 2)) {
        trapped = true;
        const error = new Error(`canceling statement due to lock timeout: relation "orders" is locked by pid 48211 (VACUUM ANALYZE) in ${migration.name}`);
        ctx.task(migration.name, { status: 'FAILED', message: error.message });
        ctx.log(`${migration.name}, statement ${statement}: ${error.message}`);
        const decision = await ctx.trap(error, { timeoutSeconds: 900 });
        ctx.log(`Trap resolved: ${decision}`);
        if (decision === 'SKIP') {
          skipped = true;
          ctx.task(migration.name, { status: 'COMPLETED', done: migration.statements, message: 'Skipped by an operator' });
          break;
        }
        ctx.task(migration.name, { status: 'PROCESSING', message: 'Retrying the statement' });
        statement -= 1; // run it again
        continue;
      }
      ctx.task(migration.name, { done: statement });
    }
    if (!skipped) {
      ctx.task(migration.name, {
        status: 'COMPLETED',
        done: migration.statements,
        message: `${migration.statements} statements applied${trapped ? ' (after a retry)' : ''}`,
      });
    }
  }
  return `${migrations.length} migrations applied to ${database}`;
};

// ---------------------------------------------------------------------------------------------
// asset-discovery (AnomalyArmor): schemas as tasks; sometimes a real error with a stack trace
// ---------------------------------------------------------------------------------------------

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

const assetDiscovery: Handler = async (job, ctx) => {
  const warehouse = text(job.config, 'warehouse', 'snowflake');
  const database = text(job.config, 'database', 'ANALYTICS');
  const role = text(job.config, 'role', 'ANOMALYARMOR_READER');
  const schemas = strings(job.config, 'schemas', ['PUBLIC', 'FINANCE', 'MARKETING', 'STAGING']).map((name) => ({ name, tables: randomInt(8, 24) }));
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

// ---------------------------------------------------------------------------------------------
// flaky-import (Akeneo product import): its worker process dies in the middle of some runs
// ---------------------------------------------------------------------------------------------

const flakyImport: Handler = async (job, ctx) => {
  const file = text(job.config, 'file', 'products.csv');
  const rows = typeof job.config['rows'] === 'number' && job.config['rows'] > 0 ? Math.round(job.config['rows']) : randomInt(20_000, 60_000);
  const crashAt = simulationOf(job, { crash: 0.4 }) === 'crash' ? between(0.35, 0.6) : Infinity;

  ctx.progress({ unit: 'products', phase: 'reading', done: 0, total: null, message: `Reading ${file}` });
  await sleep(between(2_000, 3_500), ctx.signal);
  ctx.log(`${file}: ${fmt(rows)} products, ${randomInt(40, 120)} attributes, locale ${text(job.config, 'locale', 'en_US')}`);
  ctx.progress({ phase: 'importing', total: rows, done: 0, message: `Importing ${fmt(rows)} products` });

  const budgetMs = between(20_000, 45_000);
  const ticks = Math.round(budgetMs / 700);
  for (let tick = 1; tick <= ticks; tick += 1) {
    await sleep((budgetMs / ticks) * between(0.8, 1.2), ctx.signal);
    const done = Math.round((rows * tick) / ticks);
    ctx.progress({ done, message: `Imported ${fmt(done)} of ${fmt(rows)} products` });
    if (tick / ticks >= crashAt) {
      await sleep(700); // let the last progress report go out, so the monitor shows where it died
      say((process.env['DEMO_WORKER_ID'] ?? 'worker').replace(/^demo-/, ''), `"${job.name}": the process crashes now (simulated out-of-memory kill, SIGKILL): its jobs will be ABENDED`, 'red');
      process.kill(process.pid, 'SIGKILL');
    }
  }
  ctx.progress({ phase: 'indexing', message: 'Refreshing the product search index' });
  await sleep(between(1_500, 2_500), ctx.signal);
  return `Imported ${fmt(rows)} products from ${file}`;
};

export const HANDLERS: Readonly<Record<DemoJobType, Handler>> = {
  masking,
  'mail-migration': mailMigration,
  deployment,
  'schema-migration': schemaMigration,
  'asset-discovery': assetDiscovery,
  'flaky-import': flakyImport,
};
