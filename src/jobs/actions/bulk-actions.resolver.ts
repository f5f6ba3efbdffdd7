import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../../app/context';
import { BadUserInputError } from '../../errors';
import { JobStep } from '../job-status';
import { JobFilter } from '../job-filter.input';
import { BulkActionResult, runBulkAction } from './bulk-actions';
import { cancelAction, deleteAction, restartAction } from './user-actions';

const FILTER_DESCRIPTION = 'Which jobs: every visible job matching it (all visible jobs when omitted).';
const DRY_RUN_DESCRIPTION = 'Only count what would change (default false).';

/** Bulk versions of the everyday actions, for "cancel everything of this import", "retry all failed". */
@Resolver()
export class BulkActionsResolver {
  @Mutation(() => BulkActionResult, { description: 'Cancels every matching job the viewer may cancel (see cancelJob).' })
  async cancelJobs(
    @Ctx() ctx: Context,
    @Arg('filter', () => JobFilter, { nullable: true, description: FILTER_DESCRIPTION }) filter: JobFilter | null,
    @Arg('dryRun', () => Boolean, { nullable: true, description: DRY_RUN_DESCRIPTION }) dryRun: boolean | null,
    @Arg('reason', () => String, { nullable: true, description: 'Why: kept in each timeline (at most 1000 characters).' })
    reason: string | null,
  ): Promise<BulkActionResult> {
    if (reason != null && reason.length > 1000) throw new BadUserInputError('reason must be at most 1000 characters', 'reason');
    return runBulkAction(ctx, cancelAction, filter, dryRun ?? false, { reason });
  }

  @Mutation(() => BulkActionResult, { description: 'Reruns every matching finished job the viewer may restart (see restartJob).' })
  async restartJobs(
    @Ctx() ctx: Context,
    @Arg('filter', () => JobFilter, { nullable: true, description: FILTER_DESCRIPTION }) filter: JobFilter | null,
    @Arg('dryRun', () => Boolean, { nullable: true, description: DRY_RUN_DESCRIPTION }) dryRun: boolean | null,
    @Arg('step', () => JobStep, { nullable: true, description: 'The step to rerun from; PRE when omitted.' }) step: JobStep | null,
    @Arg('runNow', () => Boolean, { nullable: true, description: 'Clear scheduledAt (see restartJob); default false: schedules hold.' })
    runNow: boolean | null,
  ): Promise<BulkActionResult> {
    return runBulkAction(ctx, restartAction, filter, dryRun ?? false, {
      step: step ?? 'PRE',
      runNow: runNow ?? false,
      sealedSecrets: null,
    });
  }

  @Mutation(() => BulkActionResult, {
    description: 'Deletes every matching CREATED or finished job the viewer may delete (see deleteJob).',
  })
  async deleteJobs(
    @Ctx() ctx: Context,
    @Arg('filter', () => JobFilter, { nullable: true, description: FILTER_DESCRIPTION }) filter: JobFilter | null,
    @Arg('dryRun', () => Boolean, { nullable: true, description: DRY_RUN_DESCRIPTION }) dryRun: boolean | null,
  ): Promise<BulkActionResult> {
    return runBulkAction(ctx, deleteAction, filter, dryRun ?? false, undefined);
  }
}
