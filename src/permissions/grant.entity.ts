import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../graphql/scalars';

@Entity({ name: 'grants' })
@ObjectType('Grant', { description: 'A role granted to a user, optionally limited to a scope and everything below it.' })
export class GrantEntity {
  @PrimaryGeneratedColumn('uuid')
  @Field(() => ID, { description: 'The grant id, for revokeGrant.' })
  id!: string;

  @Column({ type: 'text', name: 'user_id' })
  @Field(() => String, { description: 'The user (JWT `sub`) who holds the grant.' })
  userId!: string;

  @Column({ type: 'text', name: 'role_name' })
  @Field(() => String, { name: 'role', description: 'The name of the granted role.' })
  roleName!: string;

  @Column({ type: 'text', nullable: true })
  @Field(() => String, {
    nullable: true,
    description: 'The scope the grant is limited to (it covers that scope and every scope below it); null for everywhere.',
  })
  scope!: string | null;

  @Column({ type: 'text', name: 'granted_by', nullable: true })
  @Field(() => String, { nullable: true, description: 'Who granted it; null for grants made at startup (BOOTSTRAP_ADMINS).' })
  grantedBy!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  @Field(() => DateTimeScalar, { description: 'When it was granted.' })
  createdAt!: Date;
}
