import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar, JSONObjectScalar } from '../graphql/scalars';
import { JobStatus, JobStep } from './job-status';
import './job.enums';

@ObjectType({
  simpleResolvers: true,
  description: 'How far a job is. When `total` is null the worker is still counting: the progress is indeterminate and `percent` is null.',
})
export class JobProgress {
  @Field(() => Float, { description: 'Units done in the current attempt.' })
  done!: number;

  @Field(() => Float, { nullable: true, description: 'Units in all; null while the worker is still counting.' })
  total!: number | null;

  @Field(() => String, { nullable: true, description: 'What is counted ("rows", "messages", "tables").' })
  unit!: string | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'floor(100 * done / total) to the hundredth, of the done and total beside it: it never goes backwards while the phase and the total stay the same; a new phase or a new total (a recount) starts afresh. Null while indeterminate.',
  })
  percent!: number | null;

  @Field(() => Boolean, { description: 'True while the total is unknown (a counting phase).' })
  indeterminate!: boolean;

  @Field(() => String, { nullable: true, description: 'The phase the worker reports ("counting", "copying", ...).' })
  phase!: string | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'Units per minute, smoothed (it follows a change of pace within about 20 s); with no news for 5 s it decays as a stall would, 0 once the job has stopped.',
  })
  ratePerMinute!: number | null;

  @Field(() => Float, { nullable: true, description: 'Estimated seconds left, from the smoothed rate; null when unknown.' })
  etaSeconds!: number | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When progress was last reported.' })
  updatedAt!: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      'Set while the job is RUNNING, its worker heartbeating, but its figures (done, total, phase, step) have not moved for STALL_AFTER_MS (60 s): since when they have not. Null otherwise; cleared when progress resumes.',
  })
  stalledSince!: Date | null;
}

@ObjectType({ simpleResolvers: true, description: 'The last failure of a job.' })
export class JobError {
  @Field(() => String, { description: 'The error message.' })
  message!: string;

  @Field(() => String, { nullable: true, description: 'The stack trace, when the worker sent one.' })
  stack!: string | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'One monitored unit of background work: an import, a masking run, a deployment, a mail migration.',
})
export class Job {
  @Field(() => ID, { description: 'The job id (a UUID).' })
  id!: string;

  @Field(() => String, { description: 'Human-readable name.' })
  name!: string;

  @Field(() => String, { description: 'The kind of job ("masking", "mail-migration", "deployment", ...).' })
  type!: string;

  @Field(() => String, { description: 'Where the job belongs: a "/"-separated path such as "acme/payments/prod".' })
  scope!: string;

  @Field(() => String, { description: 'The user id of whoever created the job.' })
  owner!: string;

  @Field(() => String, { nullable: true, description: "The owner's display name, from their token when they created the job." })
  ownerName!: string | null;

  @Field(() => JobStatus, { description: 'The current status.' })
  status!: JobStatus;

  @Field(() => JobStep, { description: 'The step the job is at, or will run next.' })
  step!: JobStep;

  @Field(() => JobProgress, { description: 'Progress of the current attempt.' })
  progress!: JobProgress;

  @Field(() => String, { nullable: true, description: 'The last status line.' })
  message!: string | null;

  @Field(() => JobError, { nullable: true, description: 'The last failure: message and stack trace.' })
  error!: JobError | null;

  @Field(() => JSONObjectScalar, { description: 'The parameters the job was created with.' })
  config!: Record<string, unknown>;

  @Field(() => Boolean, {
    description: 'Whether the job holds secrets. Secrets are write-only: only the worker that claims the job receives them.',
  })
  hasSecrets!: boolean;

  @Field(() => [String], { description: 'User ids who may approve or reject the job.' })
  approvers!: string[];

  @Field(() => Boolean, { description: 'Whether the job must be approved before it can run.' })
  requiresApproval!: boolean;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the RUN step may start; null for as soon as possible.' })
  scheduledAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'If the job has not started by then, it expires.' })
  maxStartAt!: Date | null;

  @Field(() => DateTimeScalar, { description: 'When the job was created.' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the current attempt started running.' })
  startedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the job reached a terminal status.' })
  finishedAt!: Date | null;

  @Field(() => DateTimeScalar, { description: 'When anything about the job last changed.' })
  updatedAt!: Date;

  @Field(() => Float, {
    nullable: true,
    description: 'Seconds the current attempt has run (until now while it runs); null before it starts.',
  })
  duration!: number | null;

  @Field(() => Float, { nullable: true, description: 'Seconds the previous attempt ran; null on the first attempt.' })
  previousRunDuration!: number | null;

  @Field(() => Int, { description: 'Which run this is: 1, then one more per restart.' })
  attempt!: number;

  @Field(() => String, { nullable: true, description: 'The worker that holds (or last held) the job.' })
  workerId!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "The worker's last heartbeat." })
  heartbeatAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The resource the job works on (free text: a database, a table, a mailbox).' })
  asset!: string | null;

  @Field(() => JSONObjectScalar, {
    description:
      'Labels the creator set (environment, connector, streams, ...): string keys to string values; filterable with JobFilter.attributes.',
  })
  attributes!: Record<string, string>;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'While TRAPPED: when the trap times out and the job fails. Null while TRAP_PAUSED.',
  })
  trapExpiresAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When a cancel was requested, if one was.' })
  cancelRequestedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who requested the cancel.' })
  cancelRequestedBy!: string | null;

  @Field(() => Boolean, { description: 'Whether the status is terminal (the job will not change unless restarted).' })
  terminal!: boolean;
}
