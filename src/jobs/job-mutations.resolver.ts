import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../app/context';
import type { Loaders, TimelinePageKey } from './loaders';
import { BadUserInputError, ForbiddenError } from '../errors';
import { jobSubject } from '../permissions/ability';
import { assertScope } from '../permissions/scope';
import { assertApproversMayApprove } from './approvers';
import { CreateJobInput } from './create-job.input';
import { assertAttributes } from './job-attributes';
import { toJob } from './job.row';
import { Job } from './job.types';
import { insertJob } from './sql/insert-job';

const MAX_CONFIG_BYTES = 64 * 1024;
const MAX_SECRETS_BYTES = 16 * 1024;

function assertJsonSize(value: unknown, max: number, field: string): void {
  if (Buffer.byteLength(JSON.stringify(value)) > max)
    throw new BadUserInputError(`${field} must be at most ${max / 1024} KB of JSON`, field);
}

/**
 * The request's loaders, except that nothing of `jobId` is read: its tasks and timeline answer
 * empty. Everything else (other jobs in the same operation) still goes through `loaders`.
 */
function withoutJob(loaders: Loaders, jobId: string): Loaders {
  return {
    ...loaders,
    tasksByJob: new DataLoader(
      (ids: readonly string[]) => Promise.all(ids.map((id) => (id === jobId ? Promise.resolve([]) : loaders.tasksByJob.load(id)))),
      {
        cache: false,
      },
    ),
    timelinePage: new DataLoader(
      (keys: readonly TimelinePageKey[]) =>
        Promise.all(keys.map((key) => (key.jobId === jobId ? Promise.resolve([]) : loaders.timelinePage.load(key)))),
      { cache: false },
    ),
  };
}

@Resolver()
export class JobMutationsResolver {
  @Mutation(() => Job, {
    description:
      'Creates a job (permission `create` on its scope and type); submits it unless `start: false`. Answers the job as created. ' +
      'A caller who may create the job but not view it (a submit-only role: `create` without `view_monitor`) gets the same answer, ' +
      'which then holds only what they sent and what the server assigned (id, status, step, attempt, times), with no tasks and an empty ' +
      'timeline: from then on the job does not exist for them (job(id) is null; lists, counts, subscriptions and actions leave it out).',
  })
  async createJob(
    @Ctx() ctx: Context,
    @Arg('input', () => CreateJobInput, { description: 'The job to create.' }) input: CreateJobInput,
  ): Promise<Job> {
    const scope = assertScope(input.scope, 'input.scope');
    const config = input.config ?? {};
    assertJsonSize(config, MAX_CONFIG_BYTES, 'input.config');
    const attributes = assertAttributes(input.attributes ?? {}, 'input.attributes');
    if (input.secrets != null) assertJsonSize(input.secrets, MAX_SECRETS_BYTES, 'input.secrets');
    if (input.maxStartAt != null) {
      if (input.maxStartAt.getTime() <= Date.now())
        throw new BadUserInputError('input.maxStartAt must be in the future', 'input.maxStartAt');
      if (input.scheduledAt != null && input.maxStartAt <= input.scheduledAt) {
        throw new BadUserInputError('input.maxStartAt must be after input.scheduledAt', 'input.maxStartAt');
      }
    }
    const owner = ctx.principal;
    if (!ctx.ability.can('create', jobSubject({ scope, type: input.type, ownerId: owner.id }))) {
      throw new ForbiddenError(`You may not create jobs of type "${input.type}" in scope "${scope}"`);
    }
    const approvers = [...new Set(input.approvers ?? [])];
    await assertApproversMayApprove(ctx, { scope, type: input.type, ownerId: owner.id }, approvers, 'input.approvers');
    const id = randomUUID();
    const row = await insertJob(ctx.services.sql, {
      id,
      name: input.name,
      type: input.type,
      scope,
      ownerId: owner.id,
      ownerName: owner.name,
      status: !input.start ? 'CREATED' : input.requiresApproval ? 'WAITING_APPROVAL' : 'PENDING',
      config,
      secrets: input.secrets == null ? null : ctx.services.secrets.seal(id, input.secrets),
      approvers,
      requiresApproval: input.requiresApproval,
      scheduledAt: input.scheduledAt ?? null,
      maxStartAt: input.maxStartAt ?? null,
      asset: input.asset ?? null,
      attributes,
    });
    // The answer is a receipt. For a caller who may not view the job, nested fields must not
    // read what happens to it next (a worker's claim, its log lines): they answer empty.
    if (!ctx.ability.can('view_monitor', jobSubject({ scope, type: input.type, ownerId: owner.id, approvers: row.approvers }))) {
      ctx.loaders = withoutJob(ctx.loaders, id);
    }
    return toJob(row);
  }
}
