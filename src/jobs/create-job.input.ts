import { ArrayMaxSize, IsOptional, Length, Matches, MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { DateTimeScalar, JSONObjectScalar } from '../graphql/scalars';

export const JOB_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

@InputType({ description: 'A new job.' })
export class CreateJobInput {
  @Field(() => String, { description: 'Human-readable name, 1 to 200 characters.' })
  @Length(1, 200)
  name!: string;

  @Field(() => String, { description: 'The kind of job: letters, digits, ".", "_", ":" and "-", up to 100 characters.' })
  @Length(1, 100)
  @Matches(JOB_TYPE_PATTERN, { message: 'type may contain only letters, digits, ".", "_", ":" and "-"' })
  type!: string;

  @Field(() => String, { description: 'Where the job belongs: a "/"-separated path such as "acme/payments/prod".' })
  scope!: string;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'Parameters for the worker (a JSON object, at most 64 KB).' })
  config?: Record<string, unknown> | null;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description:
      'Credentials for the worker (a JSON object, at most 16 KB): encrypted at rest, given only to the worker that claims the job, destroyed when the job finishes.',
  })
  secrets?: Record<string, unknown> | null;

  @Field(() => [String], { nullable: true, description: 'User ids who may approve the job (at most 50).' })
  @IsOptional()
  @ArrayMaxSize(50)
  @Length(1, 200, { each: true })
  approvers?: string[] | null;

  @Field(() => Boolean, { defaultValue: false, description: 'Whether the job must be approved before it can run.' })
  requiresApproval!: boolean;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the RUN step may start; as soon as possible when omitted.' })
  scheduledAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'If the job has not started by then, it expires.' })
  maxStartAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'The resource the job works on (free text, at most 500 characters).' })
  @IsOptional()
  @MaxLength(500)
  asset?: string | null;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description:
      'Labels for finding the job (environment, connector, streams, ...): an object of at most 20 string values of 1 to 200 characters, keys of 1 to 50 of a-z, 0-9, "_", "." and "-". Filterable (JobFilter.attributes).',
  })
  attributes?: Record<string, unknown> | null;

  @Field(() => Boolean, {
    defaultValue: true,
    description: 'Submit the job at once (PENDING, or WAITING_APPROVAL); false leaves it CREATED until startJob.',
  })
  start!: boolean;
}
