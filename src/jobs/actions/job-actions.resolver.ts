import { MaxLength } from 'class-validator';
import { Arg, ArgsType, Args, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import type { Context } from '../../graphql/context';
import { BadUserInputError } from '../../graphql/errors';
import { DateTimeScalar, JSONObjectScalar } from '../../graphql/scalars';
import { JobStep } from '../job-status';
import { toJob } from '../job.row';
import { Job } from '../job.types';
import { assertJobId } from '../sql/find-job';
import { performAction } from './perform-action';
import {
  approveAction,
  cancelAction,
  deleteAction,
  pauseTrapAction,
  rejectAction,
  rescheduleAction,
  resolveTrapAction,
  restartAction,
  startAction,
  VIEWER_ACTIONS,
} from './user-actions';
import { TrapDecision } from './trap-decision';

const MAX_SECRETS_BYTES = 16 * 1024;
/** How far in the past a schedule may be and still count as "now" (clock skew between machines). */
const SCHEDULE_SKEW_MS = 60_000;

@ArgsType()
class JobIdArgs {
  @Field(() => ID, { description: 'The job id.' })
  id!: string;
}

@ArgsType()
class CommentArgs extends JobIdArgs {
  @Field(() => String, { nullable: true, description: 'Why: kept in the timeline (at most 1000 characters).' })
  @MaxLength(1000)
  comment?: string | null;
}

@ObjectType({ description: 'What the viewer may do to this job now: permission and status both allow it. For hiding buttons.' })
export class JobPermissions {
  @Field(() => Boolean, { description: 'startJob' })
  start!: boolean;
  @Field(() => Boolean, { description: 'cancelJob' })
  cancel!: boolean;
  @Field(() => Boolean, { description: 'restartJob' })
  restart!: boolean;
  @Field(() => Boolean, { description: 'rescheduleJob' })
  reschedule!: boolean;
  @Field(() => Boolean, { description: 'deleteJob' })
  delete!: boolean;
  @Field(() => Boolean, { description: 'approveJob' })
  approve!: boolean;
  @Field(() => Boolean, { description: 'rejectJob' })
  reject!: boolean;
  @Field(() => Boolean, { description: 'pauseTrap' })
  pauseTrap!: boolean;
  @Field(() => Boolean, { description: 'resolveTrap' })
  resolveTrap!: boolean;
}

/** The operator actions on one job: each a guarded transition with its timeline event. */
@Resolver(() => Job)
export class JobActionsResolver {
  @FieldResolver(() => JobPermissions, { description: 'What the viewer may do to this job now (permission and status).' })
  viewerCan(@Root() job: Job, @Ctx() ctx: Context): JobPermissions {
    const facts = { scope: job.scope, type: job.type, ownerId: job.owner, approvers: job.approvers };
    const result: Record<string, boolean> = {};
    for (const [name, action] of Object.entries(VIEWER_ACTIONS)) {
      result[name] = action.from.includes(job.status) && action.allows(ctx, facts);
    }
    return result as unknown as JobPermissions;
  }

  @Mutation(() => Job, { description: 'Submits a CREATED job: PENDING, or WAITING_APPROVAL when it requires approval (permission create).' })
  async startJob(@Ctx() ctx: Context, @Args(() => JobIdArgs) { id }: JobIdArgs): Promise<Job> {
    return toJob(await performAction(ctx, startAction, assertJobId(id), undefined));
  }

  @Mutation(() => Job, {
    description:
      'Cancels a job (permission cancel): CANCELLED at once when no worker holds it, else CANCELLING until the worker confirms or the grace period ends.',
  })
  async cancelJob(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The job id.' }) id: string,
    @Arg('reason', () => String, { nullable: true, description: 'Why: kept in the timeline (at most 1000 characters).' })
    reason: string | null,
  ): Promise<Job> {
    return toJob(await performAction(ctx, cancelAction, assertJobId(id), { reason: limitText(reason, 'reason') }));
  }

  @Mutation(() => Job, {
    description:
      'Reruns a finished job from a step (permission restart): a new attempt, PENDING (or WAITING_APPROVAL); every step after `step` reruns too.',
  })
  async restartJob(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The job id.' }) id: string,
    @Arg('step', () => JobStep, { nullable: true, description: 'The step to rerun from; PRE (the whole job) when omitted.' })
    step: JobStep | null,
    @Arg('runNow', () => Boolean, { nullable: true, description: 'Ignore scheduledAt and run as soon as a worker is free.' })
    runNow: boolean | null,
    @Arg('secrets', () => JSONObjectScalar, {
      nullable: true,
      // A JSON value, not a class: there is nothing for class-validator to check (and inline
      // literals are prototype-less objects it cannot walk). Its size is checked below.
      validate: false,
      description: "Secrets for the new attempt (the last attempt's were destroyed when it finished).",
    })
    secrets: Record<string, unknown> | null,
  ): Promise<Job> {
    const jobId = assertJobId(id);
    if (secrets != null && Buffer.byteLength(JSON.stringify(secrets)) > MAX_SECRETS_BYTES) {
      throw new BadUserInputError('secrets must be at most 16 KB of JSON', 'secrets');
    }
    const sealedSecrets = secrets == null ? null : ctx.services.secrets.seal(jobId, secrets);
    return toJob(await performAction(ctx, restartAction, jobId, { step: step ?? 'PRE', runNow: runNow ?? false, sealedSecrets }));
  }

  @Mutation(() => Job, {
    description:
      'Sets a new schedule for a PENDING, WAITING_APPROVAL, REJECTED or EXPIRED job (permission reschedule). A rejected or expired job that requires approval waits for it again.',
  })
  async rescheduleJob(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The job id.' }) id: string,
    @Arg('scheduledAt', () => DateTimeScalar, { description: 'When the RUN step may start; not in the past.' }) scheduledAt: Date,
    @Arg('maxStartAt', () => DateTimeScalar, {
      nullable: true,
      description: 'A new deadline to start by; the current one is kept when omitted (unless already past).',
    })
    maxStartAt: Date | null,
  ): Promise<Job> {
    const jobId = assertJobId(id);
    if (scheduledAt.getTime() < Date.now() - SCHEDULE_SKEW_MS) {
      throw new BadUserInputError('scheduledAt must not be in the past', 'scheduledAt');
    }
    if (maxStartAt != null && maxStartAt <= scheduledAt) {
      throw new BadUserInputError('maxStartAt must be after scheduledAt', 'maxStartAt');
    }
    return toJob(await performAction(ctx, rescheduleAction, jobId, { scheduledAt, maxStartAt: maxStartAt ?? null }));
  }

  @Mutation(() => ID, {
    description: 'Deletes a CREATED or finished job (permission delete). Its timeline stays, ending in a DELETED event. Answers the id.',
  })
  async deleteJob(@Ctx() ctx: Context, @Args(() => JobIdArgs) { id }: JobIdArgs): Promise<string> {
    return (await performAction(ctx, deleteAction, assertJobId(id), undefined)).id;
  }

  @Mutation(() => Job, {
    description: 'Approves a job WAITING_APPROVAL: PENDING. Needs approve as a named approver, or approve_all.',
  })
  async approveJob(@Ctx() ctx: Context, @Args(() => CommentArgs) { id, comment }: CommentArgs): Promise<Job> {
    return toJob(await performAction(ctx, approveAction, assertJobId(id), { comment: comment ?? null }));
  }

  @Mutation(() => Job, { description: 'Rejects a job WAITING_APPROVAL: REJECTED. Same permission as approveJob.' })
  async rejectJob(@Ctx() ctx: Context, @Args(() => CommentArgs) { id, comment }: CommentArgs): Promise<Job> {
    return toJob(await performAction(ctx, rejectAction, assertJobId(id), { comment: comment ?? null }));
  }

  @Mutation(() => Job, { description: "Pauses a TRAPPED job's timeout while someone investigates (permission resolve_trap)." })
  async pauseTrap(@Ctx() ctx: Context, @Args(() => JobIdArgs) { id }: JobIdArgs): Promise<Job> {
    return toJob(await performAction(ctx, pauseTrapAction, assertJobId(id), undefined));
  }

  @Mutation(() => Job, {
    description: 'Decides a trap (permission resolve_trap): RETRY or SKIP resume the job (RUNNING), ABORT fails it.',
  })
  async resolveTrap(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The job id.' }) id: string,
    @Arg('decision', () => TrapDecision, { description: 'RETRY, SKIP or ABORT.' }) decision: TrapDecision,
  ): Promise<Job> {
    return toJob(await performAction(ctx, resolveTrapAction, assertJobId(id), { decision }));
  }
}

function limitText(text: string | null, field: string): string | null {
  if (text != null && text.length > 1000) throw new BadUserInputError(`${field} must be at most 1000 characters`, field);
  return text;
}
