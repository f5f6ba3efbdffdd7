import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../../app/context';
import { jobSubject } from '../../permissions/ability';
import { JobFieldsResolver } from '../job-fields.resolver';
import type { Job } from '../job.types';
import { assertJobId } from '../sql/find-job';
import { findJobFacts } from '../sql/find-job-facts';
import { TimelineConnection } from '../timeline.types';

const timelines = new JobFieldsResolver();

/**
 * A job's history by id, also once the job is gone: deleteJob leaves its timeline, ending in a
 * DELETED tombstone that says who deleted it. Each event keeps the job's scope, type and owner,
 * so whether the viewer may see it is decided as for the job itself (`view_monitor` on a job of
 * that scope, type and owner), with no job row needed.
 */
@Resolver()
export class JobHistoryResolver {
  @Query(() => TimelineConnection, {
    nullable: true,
    description:
      "A job's timeline, oldest first, also after deleteJob (then ending with DELETED and who did it), for whoever may view a job of its scope, type and owner; null otherwise (and for an id that never existed). Kept RETENTION_DAYS after the job finished or was deleted.",
  })
  async jobHistory(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The job id.' }) id: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100, description: 'Page size, 0 to 500 (100 when omitted).' })
    first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the previous page.' }) after: string | null,
  ): Promise<TimelineConnection | null> {
    const jobId = assertJobId(id);
    // The job's facts from the job if it is there, else from its newest event (the tombstone).
    const facts = await findJobFacts(ctx.services.sql, jobId);
    if (
      facts === undefined ||
      !ctx.ability.can('view_monitor', jobSubject({ scope: facts.scope, type: facts.type, ownerId: facts.owner_id }))
    ) {
      return null;
    }
    return timelines.timeline({ id: jobId } as Job, ctx, first ?? 100, after, null);
  }
}
