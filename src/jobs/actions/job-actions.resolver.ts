import { Arg, ArgsType, Args, Ctx, Extensions, Field, FieldResolver, ID, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import type { Context } from '../../app/context';
import { BadUserInputError } from '../../errors';
import { VIEWER_SPECIFIC } from '../../graphql/viewer-specific';
import { DateTimeScalar, JSONObjectScalar } from '../../graphql/scalars';
import { JobStep } from '../job-status';
import { toJob } from '../job.row';
import { fromOf } from '../transitions/transition-sql';
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
/** Reasons and comments: a sentence or a paragraph for the timeline, not a document. */
const MAX_TEXT = 1000;
/** How far in the past a schedule may be and still count as "now" (clock skew between machines). */
const SCHEDULE_SKEW_MS = 60_000;

@ArgsType()
class JobIdArgs {
  @Field(() => ID, { description: 'The job id.' })
  id!: string;
}

@ArgsType()
class CommentArgs extends JobIdArgs {
  // Checked by limitText (not class-validator) so the error names the argument in extensions.field.
  @Field(() => String, { nullable: true, description: `Why: kept in the timeline event's message (at most ${MAX_TEXT} characters).` })
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
  // `approve` depends on the viewer being one of the job's approvers, not only on their rules.
  @Extensions(VIEWER_SPECIFIC)
  viewerCan(@Root() job: Job, @Ctx() ctx: Context): JobPermissions {
    const facts = { scope: job.scope, type: job.type, ownerId: job.owner, approvers: job.approvers };
    const result: Record<string, boolean> = {};
    for (const [name, action] of Object.entries(VIEWER_ACTIONS)) {
      result[name] = fromOf(action.transitions).includes(job.status) && action.allows(ctx, facts);
    }
    return result as unknown as JobPermissions;
  }

  @Mutation(() => Job, {
    description: 'Submits a CREATED job: PENDING, or WAITING_APPROVAL when it requires approval (permission create).',
  })
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
    @Arg('reason', () => String, {
      nullable: true,
      description: `Why: kept in the timeline event's message (at most ${MAX_TEXT} characters).`,
    })
    reason: string | null,
  ): Promise<Job> {
    return toJob(await performAction(ctx, cancelAction, assertJobId(id), { reason: limitText(reason, 'reason') }));
  }

  @Mutation(() => Job, {
    description:
      'Reruns a finished job from a step (permission restart): a new attempt, PENDING (or WAITING_APPROVAL when it requires approval), and every step after `step` reruns too (the worker runs them in order; POST always runs). The job keeps its scheduledAt: a rerun from PRE is claimable at once and RUN waits for the schedule (completeStep), a rerun from RUN is claimed by no worker before then. With runNow the schedule is cleared and RUN follows at once. A maxStartAt already past is dropped.',
  })
  async restartJob(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The job id.' }) id: string,
    @Arg('step', () => JobStep, { nullable: true, description: 'The step to rerun from; PRE (the whole job) when omitted.' })
    step: JobStep | null,
    @Arg('runNow', () => Boolean, {
      nullable: true,
      description: 'Clear scheduledAt: claimable as soon as a worker is free. Default false: the schedule holds.',
    })
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
      description:
        'A new deadline to start by: in the future and after scheduledAt. The current one is kept when omitted (unless already past).',
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
    // scheduledAt may lag now by the skew allowance, so "after scheduledAt" alone would accept a
    // deadline already gone: the daemon would expire the job on its next tick.
    if (maxStartAt != null && maxStartAt.getTime() <= Date.now()) {
      throw new BadUserInputError('maxStartAt must be in the future', 'maxStartAt');
    }
    return toJob(await performAction(ctx, rescheduleAction, jobId, { scheduledAt, maxStartAt: maxStartAt ?? null }));
  }

  @Mutation(() => ID, {
    description:
      'Deletes a CREATED or finished job (permission delete). Its timeline stays, ending in a DELETED event. Answers the id. A job already gone, also one a concurrent call just deleted, is NOT_FOUND.',
  })
  async deleteJob(@Ctx() ctx: Context, @Args(() => JobIdArgs) { id }: JobIdArgs): Promise<string> {
    return (await performAction(ctx, deleteAction, assertJobId(id), undefined)).id;
  }

  @Mutation(() => Job, {
    description: 'Approves a job WAITING_APPROVAL: PENDING. Needs approve as a named approver, or approve_all.',
  })
  async approveJob(@Ctx() ctx: Context, @Args(() => CommentArgs) { id, comment }: CommentArgs): Promise<Job> {
    return toJob(await performAction(ctx, approveAction, assertJobId(id), { comment: limitText(comment ?? null, 'comment') }));
  }

  @Mutation(() => Job, { description: 'Rejects a job WAITING_APPROVAL: REJECTED. Same permission as approveJob.' })
  async rejectJob(@Ctx() ctx: Context, @Args(() => CommentArgs) { id, comment }: CommentArgs): Promise<Job> {
    return toJob(await performAction(ctx, rejectAction, assertJobId(id), { comment: limitText(comment ?? null, 'comment') }));
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

/** Checked before anything is read or locked: an over-long text changes nothing. */
function limitText(text: string | null, field: string): string | null {
  if (text != null && text.length > MAX_TEXT) throw new BadUserInputError(`${field} must be at most ${MAX_TEXT} characters`, field);
  return text;
}
