import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../../app/context';
import { JobFilter } from '../job-filter.input';
import { FACET_LIMIT, jobFacets } from './facet-counts';
import { JobFacets } from './job-facets.types';

@Resolver()
export class JobFacetsResolver {
  @Query(() => JobFacets, {
    description: `For filter dropdowns: the types, owners, scopes and statuses of the jobs the viewer may see that match the filter, each value with its exact count (top ${FACET_LIMIT} by count per facet).`,
  })
  async jobFacets(
    @Ctx() ctx: Context,
    @Arg('filter', () => JobFilter, { nullable: true, description: 'Which jobs to count; all the viewer may see when omitted.' })
    filter: JobFilter | null,
  ): Promise<JobFacets> {
    return jobFacets(ctx.services.sql, ctx.ability, filter);
  }
}
