/** deployment (Clarive): PRE, RUN, POST; approval happens before the job is claimed. */
import type { JobStep } from '../../../src/sdk';
import { between, seconds, sleep } from '../util';
import { type Handler, simulationOf, strings, text } from './config';

class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
}

async function healthCheck(target: string, version: string): Promise<never> {
  await Promise.resolve();
  throw new DeploymentError(`Health check failed on ${target}: GET /healthz answered HTTP 503 three times after deploying ${version}`);
}

export const deployment: Handler = async (job, ctx) => {
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
