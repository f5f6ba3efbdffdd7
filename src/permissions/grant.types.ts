import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../graphql/scalars';

@ObjectType('Grant', { description: 'A role granted to a user, optionally limited to a scope and everything below it.' })
export class Grant {
  @Field(() => ID, { description: 'The grant id, for revokeGrant.' })
  id!: string;

  @Field(() => String, { description: 'The user (JWT `sub`) who holds the grant.' })
  userId!: string;

  @Field(() => String, { name: 'role', description: 'The name of the granted role.' })
  roleName!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The scope the grant is limited to (it covers that scope and every scope below it); null for everywhere.',
  })
  scope!: string | null;

  @Field(() => String, { nullable: true, description: 'Who granted it; null for grants made at startup (BOOTSTRAP_ADMINS).' })
  grantedBy!: string | null;

  @Field(() => DateTimeScalar, { description: 'When it was granted.' })
  createdAt!: Date;
}
