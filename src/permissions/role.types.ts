import { Field, ObjectType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from '../graphql/scalars';
import type { RawRule } from './rules';

@ObjectType('Role', { description: 'A named list of CASL rules that admins grant to users.' })
export class Role {
  @Field(() => String, { description: 'Unique name: lowercase letters, digits, "-" and "_".' })
  name!: string;

  @Field(() => String, { description: 'What the role is for, shown to admins.' })
  description!: string;

  @Field(() => JSONScalar, {
    description:
      'The CASL rules, as stored: [{ action, subject, conditions?, inverted?, reason? }]. "${user.id}" in a condition stands for the user the role is granted to.',
  })
  rules!: RawRule[];

  @Field(() => Boolean, { description: 'Built-in roles are seeded by a migration and cannot be deleted.' })
  builtIn!: boolean;

  @Field(() => DateTimeScalar, { description: 'When the role was created.' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: 'When the role last changed.' })
  updatedAt!: Date;
}
