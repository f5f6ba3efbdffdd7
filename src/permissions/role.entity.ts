import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Field, ObjectType } from 'type-graphql';
import { DateTimeScalar, JSONScalar } from '../graphql/scalars';
import type { RawRule } from './rules';

@Entity({ name: 'roles' })
@ObjectType('Role', { description: 'A named list of CASL rules that admins grant to users.' })
export class RoleEntity {
  @PrimaryColumn({ type: 'text' })
  @Field(() => String, { description: 'Unique name: lowercase letters, digits, "-" and "_".' })
  name!: string;

  @Column({ type: 'text' })
  @Field(() => String, { description: 'What the role is for, shown to admins.' })
  description!: string;

  @Column({ type: 'jsonb' })
  @Field(() => JSONScalar, {
    description:
      'The CASL rules, as stored: [{ action, subject, conditions?, inverted?, reason? }]. "${user.id}" in a condition stands for the user the role is granted to.',
  })
  rules!: RawRule[];

  @Column({ type: 'boolean', name: 'built_in' })
  @Field(() => Boolean, { description: 'Built-in roles are seeded by a migration and cannot be deleted.' })
  builtIn!: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  @Field(() => DateTimeScalar, { description: 'When the role was created.' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  @Field(() => DateTimeScalar, { description: 'When the role last changed.' })
  updatedAt!: Date;
}
