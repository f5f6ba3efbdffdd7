import { ArrayMaxSize, IsOptional, Length, MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { DateTimeScalar, JSONObjectScalar } from '../graphql/scalars';
import { JobStatus, JobTab } from './job-status';
import { JobOrderField, OrderDirection } from './job.enums';

@InputType({ description: 'Which jobs to list or count. Every criterion given must hold (they combine with AND).' })
export class JobFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the job name.' })
  @IsOptional()
  @Length(1, 200)
  name?: string | null;

  @Field(() => [String], { nullable: true, description: 'Any of these job types.' })
  @IsOptional()
  @ArrayMaxSize(100)
  @MaxLength(100, { each: true })
  types?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Jobs owned by any of these user ids.' })
  @IsOptional()
  @ArrayMaxSize(100)
  @MaxLength(200, { each: true })
  owners?: string[] | null;

  @Field(() => [JobStatus], { nullable: true, description: 'Any of these statuses (combined with `tab`, both must hold).' })
  @IsOptional()
  @ArrayMaxSize(20)
  statuses?: JobStatus[] | null;

  @Field(() => JobTab, { nullable: true, description: 'A monitor tab: ACTIVE, COMPLETED, FAILED or ALL.' })
  @IsOptional()
  tab?: JobTab | null;

  @Field(() => String, { nullable: true, description: 'This scope and every scope below it ("acme" matches "acme/payments").' })
  @IsOptional()
  scope?: string | null;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description:
      'Jobs whose attributes hold every one of these pairs ({"environment": "prod", "connector": "oracle"}): at most 20, string values.',
  })
  attributes?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Jobs on exactly this asset (at most 500 characters).' })
  @IsOptional()
  @Length(1, 500)
  asset?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Created at or after this instant.' })
  createdAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Created before this instant.' })
  createdBefore?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Started at or after this instant.' })
  startedAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Started before this instant.' })
  startedBefore?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Finished at or after this instant.' })
  finishedAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Finished before this instant.' })
  finishedBefore?: Date | null;
}

@InputType({ description: 'The order of a job list.' })
export class JobOrder {
  @Field(() => JobOrderField, { description: 'The field to sort by.' })
  field!: JobOrderField;

  @Field(() => OrderDirection, { description: 'Ascending or descending.' })
  direction!: OrderDirection;
}

export const DEFAULT_ORDER: JobOrder = { field: 'CREATED_AT', direction: 'DESC' };
