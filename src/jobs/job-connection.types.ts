import { Field, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../graphql/page-info.type';
import { JobStatus } from './job-status';
import { Job } from './job.types';

@ObjectType({ simpleResolvers: true, description: 'A job and its cursor.' })
export class JobEdge {
  @Field(() => String, { description: 'Pass as `after` to continue after this job.' })
  cursor!: string;

  @Field(() => Job, { description: 'The job.' })
  node!: Job;
}

@ObjectType({ simpleResolvers: true, description: 'A page of jobs (Relay connection, keyset-paginated).' })
export class JobConnection {
  @Field(() => [JobEdge], { description: 'The jobs of this page with their cursors.' })
  edges!: JobEdge[];

  @Field(() => [Job], { description: 'The jobs of this page.' })
  nodes!: Job[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  /** Counted only when the field is asked for: a count over a million rows is not free. */
  countTotal!: () => Promise<number>;
}

@ObjectType({ simpleResolvers: true, description: 'How many visible jobs have a status.' })
export class JobStatusCount {
  @Field(() => JobStatus, { description: 'The status.' })
  status!: JobStatus;

  @Field(() => Int, { description: 'How many jobs matching the filter have it.' })
  count!: number;
}
