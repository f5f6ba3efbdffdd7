import { Length, Matches, MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { JSONScalar } from '../graphql/scalars';

@InputType({ description: 'A role: a name and its CASL rules.' })
export class RoleInput {
  @Field(() => String, { description: 'Unique name: lowercase letters, digits, "-" and "_", starting with a letter (at most 63).' })
  @Length(1, 63)
  @Matches(/^[a-z][a-z0-9_-]*$/, { message: 'name may contain only lowercase letters, digits, "-" and "_", and starts with a letter' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What the role is for (at most 500 characters).' })
  @MaxLength(500)
  description?: string | null;

  @Field(() => JSONScalar, {
    description:
      'CASL rules: [{ action, subject, conditions?, inverted?, reason? }]. Actions: view_monitor, create, restart, cancel, delete, reschedule, approve, approve_all, resolve_trap, execute (subject "Job"), manage_permissions (subject "Permission"). Conditions on scope, type, ownerId with $eq, $ne, $in, $nin; "${user.id}" stands for the grantee in ownerId.',
  })
  rules!: unknown;
}
