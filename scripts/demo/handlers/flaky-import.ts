/** flaky-import (Akeneo product import): its worker process dies in the middle of some runs. */
import { between, fmt, randomInt, say, sleep } from '../util';
import { type Handler, simulationOf, text } from './config';

export const flakyImport: Handler = async (job, ctx) => {
  const file = text(job.config, 'file', 'products.csv');
  const rows =
    typeof job.config['rows'] === 'number' && job.config['rows'] > 0 ? Math.round(job.config['rows']) : randomInt(20_000, 60_000);
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
      say(
        (process.env['DEMO_WORKER_ID'] ?? 'worker').replace(/^demo-/, ''),
        `"${job.name}": the process crashes now (simulated out-of-memory kill, SIGKILL): its jobs will be ABENDED`,
        'red',
      );
      process.kill(process.pid, 'SIGKILL');
    }
  }
  ctx.progress({ phase: 'indexing', message: 'Refreshing the product search index' });
  await sleep(between(1_500, 2_500), ctx.signal);
  return `Imported ${fmt(rows)} products from ${file}`;
};
