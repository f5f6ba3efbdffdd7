/** schema-migration (Clarive trap): an error waits for a person's decision, then goes on. */
import { between, chance, randomInt, sleep } from '../util';
import { type Handler, simulationOf, strings, text } from './config';

const DEFAULT_MIGRATIONS = ['0041_add_refund_reason', '0042_index_orders_customer', '0043_split_addresses', '0044_drop_legacy_flags'];

export const schemaMigration: Handler = async (job, ctx) => {
  const database = text(job.config, 'database', 'app-db');
  const migrations = strings(job.config, 'migrations', DEFAULT_MIGRATIONS).map((name) => ({ name, statements: randomInt(4, 9) }));
  const trapping = simulationOf(job) === 'trap' || (job.config['simulate'] === undefined && job.attempt === 1 && chance(0.5));
  const trapAt = Math.min(migrations.length - 1, 1 + Math.floor(migrations.length / 3));

  ctx.progress({ unit: 'statements', phase: 'migrating', message: `Applying ${migrations.length} migrations to ${database}` });
  for (const migration of migrations)
    ctx.task(migration.name, { status: 'WAITING', done: 0, total: migration.statements, unit: 'statements' });

  for (const [index, migration] of migrations.entries()) {
    ctx.task(migration.name, { status: 'PROCESSING' });
    ctx.progress({ message: `Applying ${migration.name}` });
    let trapped = false;
    let skipped = false;
    for (let statement = 1; statement <= migration.statements; statement += 1) {
      await sleep(between(700, 1_500), ctx.signal);
      if (trapping && !trapped && index === trapAt && statement === Math.ceil(migration.statements / 2)) {
        trapped = true;
        const error = new Error(
          `canceling statement due to lock timeout: relation "orders" is locked by pid 48211 (VACUUM ANALYZE) in ${migration.name}`,
        );
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
