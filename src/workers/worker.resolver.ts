import { Arg, Ctx, Int, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { BadUserInputError, ForbiddenError } from '../graphql/errors';
import { jobSubject } from '../permissions/ability';
import { jobPredicate } from '../permissions/rules-to-sql';
import { SqlParams } from '../db/sql-params';
import { JOB_TYPE_PATTERN } from '../jobs/create-job.input';
import { TRANSITIONS, WORKER_HELD_STATUSES } from '../jobs/job-status';
import { toJob } from '../jobs/job.row';
import { Job } from '../jobs/job.types';
import { changeJobs } from '../jobs/transitions/change-jobs';
import { formatLease, parseLease, type Lease } from './lease';
import { parseReports } from './progress/validate-report';
import { claimJob, type ClaimedRow } from './sql/claim-job';
import { Claim, HeartbeatResult, ProgressReport } from './worker.types';
import { applyWorkerTransition, explainWorkerRefusal, type WorkerTransition } from './worker-transitions';
import type { TrapDecision } from '../jobs/actions/trap-decision';

const DEFAULT_TRAP_TIMEOUT_SECONDS = 3600;
const MAX_TRAP_TIMEOUT_SECONDS = 7 * 86_400;

function assertText(value: string, max: number, field: string, required = false): string {
  if (required && value.trim() === '') throw new BadUserInputError(`${field} must not be empty`, field);
  if (value.length > max) throw new BadUserInputError(`${field} must be at most ${max} characters`, field);
  return value;
}

/** The worker protocol: claim, heartbeat, report, and end the attempt. Permission `execute`. */
@Resolver()
export class WorkerResolver {
  @Mutation(() => Claim, {
    nullable: true,
    description:
      'Claims the oldest runnable PENDING job (its schedule has come) of the given types that the worker may execute: it becomes RUNNING. Null when there is none.',
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
      for (const type of types) if (!JOB_TYPE_PATTERN.test(type) || type.length > 100) throw new BadUserInputError(`"${type.slice(0, 100)}" is not a job type`, 'types');
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
        from: TRANSITIONS.secretsUnreadable.from,
        operation: {
          kind: 'update',
          set: () => `status = '${TRANSITIONS.secretsUnreadable.to}', error_message = 'Its secrets could not be decrypted (was SECRETS_KEY changed?)'`,
        },
        event: { kind: 'FAILED', actorId: null, actorKind: 'SYSTEM', message: 'Secrets could not be decrypted' },
      });
      return 'unreadable';
    }
  }

  @Mutation(() => HeartbeatResult, {
    description: 'Says the worker is alive; answers whether a cancel was requested and, after a trap, the decision. CONFLICT once the lease is no longer valid.',
  })
  async heartbeat(@Ctx() ctx: Context, @Arg('lease', () => String, { description: 'The lease from claimJob.' }) leaseText: string): Promise<HeartbeatResult> {
    const lease = parseLease(leaseText);
    const params = new SqlParams();
    const id = params.add(lease.jobId);
    const token = params.add(lease.token);
    const held = params.add(WORKER_HELD_STATUSES);
    // The decision after a trap is answered on every heartbeat until the worker traps again (the
    // trap clears it) or the attempt ends: a lost answer is never a lost decision.
    const row = await ctx.services.sql.one<{ status: HeartbeatResult['status']; trap_decision: TrapDecision | null }>(
      `UPDATE jobs j SET heartbeat_at = now()
        WHERE j.id = ${id} AND j.lease_token = ${token} AND j.status = ANY(${held}::text[]) AND ${jobPredicate(ctx.ability, 'execute', params, 'j')}
       RETURNING j.status, j.trap_decision`,
      params.values,
    );
    if (row === undefined) throw await explainWorkerRefusal(ctx, lease, WORKER_HELD_STATUSES);
    return { status: row.status, cancelRequested: row.status === 'CANCELLING', trapDecision: row.status === 'RUNNING' ? row.trap_decision : null };
  }

  @Mutation(() => Int, {
    description:
      'Reports progress for one or many attempts (batch as much as you like, up to 1000 reports). Answers how many reports were accepted: a report whose lease is no longer current is refused and can never overwrite a later state.',
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
    ctx.services.progress.accept(accepted);
    return accepted.length;
  }

  @Mutation(() => Job, { description: 'Ends the attempt successfully: SUCCEEDED. Pending progress is written first.' })
  completeJob(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('message', () => String, { nullable: true, description: 'A final status line (at most 1000 characters).' }) message: string | null,
  ): Promise<Job> {
    if (message != null) assertText(message, 1000, 'message');
    return this.end(ctx, parseLease(lease), {
      transition: 'complete',
      set: { kind: 'update', set: (params) => `status = 'SUCCEEDED', message = coalesce(${params.add(message)}, j.message), error_message = NULL, error_stack = NULL`,
      },
      event: { kind: 'SUCCEEDED', message },
    });
  }

  @Mutation(() => Job, { description: 'Ends the attempt with an error: FAILED, with the message and stack trace for the monitor.' })
  failJob(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('error', () => String, { description: 'The error message (at most 10,000 characters).' }) error: string,
    @Arg('stack', () => String, { nullable: true, description: 'The stack trace (at most 100,000 characters).' }) stack: string | null,
  ): Promise<Job> {
    assertText(error, 10_000, 'error', true);
    if (stack != null) assertText(stack, 100_000, 'stack');
    return this.end(ctx, parseLease(lease), {
      transition: 'fail',
      set: { kind: 'update', set: (params) => `status = 'FAILED', error_message = ${params.add(error)}, error_stack = ${params.add(stack)}` },
      event: { kind: 'FAILED', message: error },
    });
  }

  @Mutation(() => Job, {
    description: "Traps an error: TRAPPED until a person decides (resolveTrap) or the timeout passes (then FAILED). Keep heartbeating to hear the decision.",
  })
  trapJob(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('error', () => String, { description: 'What went wrong (at most 10,000 characters).' }) error: string,
    @Arg('timeoutSeconds', () => Int, { nullable: true, description: 'How long to wait for a decision; 3600 when omitted, at most 7 days.' })
    timeoutSeconds: number | null,
  ): Promise<Job> {
    assertText(error, 10_000, 'error', true);
    const timeout = timeoutSeconds ?? DEFAULT_TRAP_TIMEOUT_SECONDS;
    if (timeout < 1 || timeout > MAX_TRAP_TIMEOUT_SECONDS) {
      throw new BadUserInputError(`timeoutSeconds must be between 1 and ${MAX_TRAP_TIMEOUT_SECONDS}`, 'timeoutSeconds');
    }
    return this.move(ctx, parseLease(lease), {
      transition: 'trap',
      set: {
        kind: 'update',
        set: (params) =>
          `status = 'TRAPPED', error_message = ${params.add(error)}, trap_timeout_at = now() + make_interval(secs => ${params.add(timeout)}),
           trap_decision = NULL`,
      },
      event: { kind: 'TRAPPED', message: error, data: { timeoutSeconds: timeout } },
    });
  }

  @Mutation(() => Job, { description: 'Says the worker is undoing its work: ROLLBACK. End it with failJob.' })
  startRollback(
    @Ctx() ctx: Context,
    @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string,
    @Arg('reason', () => String, { nullable: true, description: 'Why (at most 1000 characters).' }) reason: string | null,
  ): Promise<Job> {
    if (reason != null) assertText(reason, 1000, 'reason');
    return this.move(ctx, parseLease(lease), {
      transition: 'startRollback',
      set: { kind: 'update', set: (params) => `status = 'ROLLBACK', message = coalesce(${params.add(reason)}, j.message)` },
      event: { kind: 'ROLLBACK_STARTED', message: reason },
    });
  }

  @Mutation(() => Job, { description: 'Confirms a requested cancel: the worker has stopped. CANCELLED.' })
  confirmCancel(@Ctx() ctx: Context, @Arg('lease', () => String, { description: 'The lease from claimJob.' }) lease: string): Promise<Job> {
    return this.end(ctx, parseLease(lease), {
      transition: 'confirmCancel',
      set: { kind: 'update', set: () => `status = 'CANCELLED'` },
      event: { kind: 'CANCELLED', message: 'The worker stopped' },
    });
  }

  /** A move of the attempt (trap, rollback): that job's pending progress is written first, so the person deciding sees it. */
  private async move(ctx: Context, lease: Lease, move: WorkerTransition): Promise<Job> {
    await ctx.services.progress.flush(lease.jobId);
    return toJob(await applyWorkerTransition(ctx, lease, move));
  }

  /**
   * Ends an attempt: its pending progress is written first (that job's only: with many jobs
   * ending, the others still wait for their PROGRESS_FLUSH_MS), then nothing more is taken for it.
   */
  private async end(ctx: Context, lease: Lease, move: WorkerTransition): Promise<Job> {
    const job = await this.move(ctx, lease, move);
    ctx.services.progress.forget(lease.jobId, lease.token);
    ctx.services.leases.forget(lease.jobId, lease.token);
    return job;
  }
}
