import { Field, ObjectType } from 'type-graphql';
import { JSONScalar } from '../graphql/scalars';
import { Grant } from './grant.types';

@ObjectType({ description: 'The user making the request, with what they may do.' })
export class Viewer {
  @Field(() => String, { description: 'The user id (the JWT `sub`).' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'The display name from the token.' })
  name!: string | null;

  @Field(() => [Grant], { description: "The viewer's grants." })
  grants!: Grant[];

  @Field(() => JSONScalar, {
    description:
      "The viewer's CASL rules, packed (`packRules` of @casl/ability/extra): `createMongoAbility(unpackRules(rules))` gives the frontend the server's own ability to hide what it cannot do.",
  })
  rules!: unknown;

  @Field(() => [String], { description: 'The actions the viewer may take on at least some jobs (a quick check for menus).' })
  actions!: string[];
}
