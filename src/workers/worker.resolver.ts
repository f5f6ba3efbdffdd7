import { Arg, Ctx, Extensions, Int, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../app/context';
import { BadUserInputError, ConflictError, ForbiddenError } from '../errors';
import { WORKER_PROTOCOL } from '../graphql/worker-protocol';
import { jobSubject } from '../permissions/ability';
import { jobPredicate } from '../permissions/rules-to-sql';
import { JOB_TYPE_PATTERN } from '../jobs/create-job.input';
import { WORKER_HELD_STATUSES } from '../jobs/job-status';
import { toJob } from '../jobs/job.row';
import { Job } from '../jobs/job.types';
import { changeJobs } from '../jobs/transitions/change-jobs';
import { targetStatusSql } from '../jobs/transitions/transition-sql';
import { endAttempt, moveAttempt } from './attempt-end';
import { completeCurrentStep } from './complete-step';
import { formatLease, parseLease } from './lease';
import type { Receipt } from './progress/progress-buffer';
import { parseReports } from './progress/validate-report';
import { claimJob, type ClaimedRow } from './sql/claim-job';
import { recordHeartbeat } from './sql/heartbeat';
import { Claim, HeartbeatResult, ProgressReport } from './worker.types';
import { explainWorkerRefusal } from './worker-transitions';

const DEFAULT_TRAP_TIMEOUT_SECONDS = 3600;

const MAX_TRAP_TIMEOUT_SECONDS = 7 * 86_400;

function assertText(value: string, max: number, field: string, required = false): string {
  if (required && value.trim() === '') throw new BadUserInputError(`${field} must not be empty`, field);
  if (value.length > max) throw new BadUserInputError(`${field} must be at most ${max} characters`, field);
  return value;
}

/**
 * The worker protocol: claim, heartbeat, report, and end the attempt. Permission `execute`.
 * Every mutation here is marked `@Extensions(WORKER_PROTOCOL)`: workers spend their own rate budget.
 */
@Resolver()
export class WorkerResolver {
  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Claim, {
    nullable: true,
    description:
      'Claims the oldest runnable PENDING job of the given types that the worker may execute: at once for PRE (and POST), for RUN once its scheduledAt has come. It becomes RUNNING; `step` says where to start. Null when there is none.',
  })
  async claimJob(
    @Ctx() ctx: Context,
    @Arg('workerId', () => String, { description: 'Who the worker is (host/process), shown in the monitor (at most 200 characters).' })
    workerId: string,
    @Arg('types', () => [String], { nullable: true, description: 'Only jobs of these types; any type it may execute when omitted.' })
    types: string[] | null,
  ): Promise<Claim | null> {
    assertText(workerId, 200, 'workerId', true);
    if (types != null) {
      if (types.length === 0 || types.length > 100) throw new BadUserInputError('types must name 1 to 100 job types', 'types');
      for (const type of types)
        if (!JOB_TYPE_PATTERN.test(type) || type.length > 100)
          throw new BadUserInputError(`"${type.slice(0, 100)}" is not a job type`, 'types');
    }
    if (!ctx.ability.can('execute', 'Job')) throw new ForbiddenError('Claiming jobs needs the execute permission');
    for (;;) {
      const row = await claimJob(ctx.services.sql, {
        workerId,
        actorId: ctx.principal.id,
        types: types ?? null,
        executable: (params) => jobPredicate(ctx.ability, 'execute', params, 'j'),
      });
      if (row === undefined) return null;
      const secrets = await this.openSecrets(ctx, row);
      if (secrets === 'unreadable') continue;
      ctx.services.leases.remember(row.id, { token: row.lease_token, scope: row.scope, type: row.type, ownerId: row.owner_id });
      return { lease: formatLease(row.id, row.lease_token), job: toJob(row), secrets };
    }
  }

  /** Decrypts a claimed job's secrets; a job whose secrets cannot be read fails at once, clearly. */
  private async openSecrets(ctx: Context, row: ClaimedRow): Promise<Record<string, unknown> | null | 'unreadable'> {
    if (row.secrets === null) return null;
    try {
      return ctx.services.secrets.open(row.id, row.secrets);
    } catch (error) {
      ctx.log.error({ err: error, jobId: row.id }, 'job secrets could not be decrypted');
      await changeJobs(ctx.services.sql, {
        target: { ids: [row.id] },
        transitions: ['secretsUnreadable'],
        by: 'worker',
        operation: {
          kind: 'update',
          set: () =>
            `status = ${targetStatusSql('secretsUnreadable')}, error_message = 'Its secrets could not be decrypted (was SECRETS_KEY changed?)'`,
        },
        event: { kind: 'FAILED', actorId: null, actorKind: 'SYSTEM', message: 'Secrets could not be decrypted' },
      });
      return 'unreadable';
    }
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => HeartbeatResult, {
    description:
      'Says the worker is alive; answers whether a cancel was requested and, after a trap, the decision. CONFLICT once the lease is no longer valid.',
  })
  async heartbeat(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) leaseText: string,
  ): Promise<HeartbeatResult> {
    const lease = parseLease(leaseText);
    const row = await recordHeartbeat(ctx.services.sql, lease, (params) => jobPredicate(ctx.ability, 'execute', params, 'j'));
    if (row === undefined) throw await explainWorkerRefusal(ctx, lease, WORKER_HELD_STATUSES);
    return {
      status: row.status,
      cancelRequested: row.status === 'CANCELLING',
      trapDecision: row.status === 'RUNNING' ? row.trap_decision : null,
      storedSequence: Number(row.progress_sequence),
    };
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Int, {
    description:
      'Reports progress for one or many attempts (batch as much as you like, up to 1000 reports). Answers how many reports were accepted: a report whose lease is no longer current is refused and can never overwrite a later state. Sequenced reports (`sequence`) are durable: the answer comes once they are stored (up to PROGRESS_FLUSH_MS later), a report already stored is ignored (and counted as accepted), one after a gap refuses the call with CONFLICT (`reason: SEQUENCE_GAP`, `gaps: [{ lease, storedSequence }]`: send again from storedSequence + 1); on any other error, send them again.',
  })
  async reportProgress(
    @Ctx() ctx: Context,
    @Arg('reports', () => [ProgressReport], { description: 'The reports.', validate: false }) reports: ProgressReport[],
  ): Promise<number> {
    const parsed = parseReports(reports);
    const current = await ctx.services.leases.current(parsed.map(({ lease }) => lease));
    const accepted = [];
    for (const { report, lease } of parsed) {
      const held = current.get(lease.jobId);
      if (held === undefined || !ctx.ability.can('execute', jobSubject(held))) continue;
      accepted.push({ jobId: lease.jobId, token: lease.token, actor: ctx.principal.id, report });
    }
    const receipts = ctx.services.progress.accept(accepted);
    if (receipts.length === 0) return accepted.length;
    return accepted.length - (await this.awaitStored(ctx, receipts, accepted));
  }

  /** Waits for sequenced reports to be stored; answers how many of them were refused because their lease ended. */
  private async awaitStored(
    ctx: Context,
    receipts: readonly Receipt[],
    accepted: ReadonlyArray<{ jobId: string; report: ProgressReport }>,
  ): Promise<number> {
    const outcomes = await ctx.services.progress.stored(receipts);
    const gaps: Array<{ lease: string; storedSequence: number }> = [];
    let lost = 0;
    for (const [jobId, outcome] of outcomes) {
      const receipt = receipts.find((candidate) => candidate.jobId === jobId) as Receipt;
      if (outcome.kind === 'failed') throw outcome.error;
      if (outcome.kind === 'gap') gaps.push({ lease: formatLease(jobId, receipt.token), storedSequence: outcome.storedSequence });
      if (outcome.kind === 'lost') lost += accepted.filter((entry) => entry.jobId === jobId).length;
    }
    if (gaps.length > 0) {
      throw new ConflictError(
        `Progress reports are missing before the ones sent (stored up to sequence ${gaps.map((gap) => gap.storedSequence).join(', ')}): send again from the next one`,
        { reason: 'SEQUENCE_GAP', gaps },
      );
    }
    return lost;
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Job, { description: 'Ends the attempt successfully: SUCCEEDED. Pending progress is written first.' })
  completeJob(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('message', () => String, { nullable: true, description: 'A final status line (at most 1000 characters).' }) message: string | null,
  ): Promise<Job> {
    if (message != null) assertText(message, 1000, 'message');
    return endAttempt(ctx, parseLease(lease), {
      transition: 'complete',
      set: (params) => `message = coalesce(${params.add(message)}, j.message), error_message = NULL, error_stack = NULL`,
      event: { kind: 'SUCCEEDED', message },
    });
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Job, {
    description:
      "Ends the current step (PRE or RUN) successfully: the next one runs on the same lease (RUNNING, `step` the next one). Except RUN before the job's scheduledAt: the job goes back to PENDING at step RUN and the lease ends; a worker claims it again for RUN once the time comes. POST is the last step: end it with completeJob or failJob (CONFLICT, reason LAST_STEP). Pending progress is written first.",
  })
  completeStep(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) leaseText: string,
    @Arg('message', () => String, { nullable: true, description: 'A status line (at most 1000 characters).' }) message: string | null,
  ): Promise<Job> {
    if (message != null) assertText(message, 1000, 'message');
    return completeCurrentStep(ctx, parseLease(leaseText), message);
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Job, { description: 'Ends the attempt with an error: FAILED, with the message and stack trace for the monitor.' })
  failJob(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('error', () => String, { description: 'The error message (at most 10,000 characters).' }) error: string,
    @Arg('stack', () => String, { nullable: true, description: 'The stack trace (at most 100,000 characters).' }) stack: string | null,
  ): Promise<Job> {
    assertText(error, 10_000, 'error', true);
    if (stack != null) assertText(stack, 100_000, 'stack');
    return endAttempt(ctx, parseLease(lease), {
      transition: 'fail',
      set: (params) => `error_message = ${params.add(error)}, error_stack = ${params.add(stack)}`,
      event: { kind: 'FAILED', message: error },
    });
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Job, {
    description:
      'Traps an error: TRAPPED until a person decides (resolveTrap) or the timeout passes (then FAILED). Keep heartbeating to hear the decision.',
  })
  trapJob(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('error', () => String, { description: 'What went wrong (at most 10,000 characters).' }) error: string,
    @Arg('timeoutSeconds', () => Int, {
      nullable: true,
      description: 'How long to wait for a decision; 3600 when omitted, at most 7 days.',
    })
    timeoutSeconds: number | null,
  ): Promise<Job> {
    assertText(error, 10_000, 'error', true);
    const timeout = timeoutSeconds ?? DEFAULT_TRAP_TIMEOUT_SECONDS;
    if (timeout < 1 || timeout > MAX_TRAP_TIMEOUT_SECONDS) {
      throw new BadUserInputError(`timeoutSeconds must be between 1 and ${MAX_TRAP_TIMEOUT_SECONDS}`, 'timeoutSeconds');
    }
    return moveAttempt(ctx, parseLease(lease), {
      transition: 'trap',
      set: (params) =>
        `error_message = ${params.add(error)}, trap_timeout_at = now() + make_interval(secs => ${params.add(timeout)}), trap_decision = NULL`,
      event: { kind: 'TRAPPED', message: error, data: { timeoutSeconds: timeout } },
    });
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Job, { description: 'Says the worker is undoing its work: ROLLBACK. End it with failJob.' })
  startRollback(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('reason', () => String, { nullable: true, description: 'Why (at most 1000 characters).' }) reason: string | null,
  ): Promise<Job> {
    if (reason != null) assertText(reason, 1000, 'reason');
    return moveAttempt(ctx, parseLease(lease), {
      transition: 'startRollback',
      set: (params) => `message = coalesce(${params.add(reason)}, j.message)`,
      event: { kind: 'ROLLBACK_STARTED', message: reason },
    });
  }

  @Extensions(WORKER_PROTOCOL)
  @Mutation(() => Job, { description: 'Confirms a requested cancel: the worker has stopped. CANCELLED.' })
  confirmCancel(@Ctx() ctx: Context, @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string): Promise<Job> {
    return endAttempt(ctx, parseLease(lease), {
      transition: 'confirmCancel',
      event: { kind: 'CANCELLED', message: 'The worker stopped' },
    });
  }
}
