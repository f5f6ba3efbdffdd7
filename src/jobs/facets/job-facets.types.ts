import { Field, Int, ObjectType } from 'type-graphql';

import { FACET_LIMIT } from './facet-counts';

@ObjectType({ description: 'One value of a facet and how many of the jobs asked about have it.' })
export class FacetCount {
  @Field(() => String, { description: 'The value (a type, an owner id, a scope, a status).' })
  value!: string;

  @Field(() => Int, { description: 'How many jobs have it.' })
  count!: number;
}

@ObjectType({
  description: `The types, owners, scopes and statuses of the jobs the viewer may see (and the filter admits), each value with its count: the top ${FACET_LIMIT} by count, for filter dropdowns.`,
})
export class JobFacets {
  @Field(() => [FacetCount], { description: 'Job types.' })
  types!: FacetCount[];

  @Field(() => [FacetCount], { description: 'Owners (user ids).' })
  owners!: FacetCount[];

  @Field(() => [FacetCount], { description: 'Scopes (each exact scope, not its subtree).' })
  scopes!: FacetCount[];

  @Field(() => [FacetCount], { description: 'Statuses.' })
  statuses!: FacetCount[];
}
