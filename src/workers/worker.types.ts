import { Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar, JSONObjectScalar } from '../graphql/scalars';
import { TaskStatus } from '../jobs/job.enums';
import { JobStatus, JobStep } from '../jobs/job-status';
import { Job } from '../jobs/job.types';
import { TrapDecision } from '../jobs/actions/trap-decision';
import { REPORT_LIMITS } from '../sdk/report-limits';

// Progress reports are validated by hand (validate-report.ts) in one pass: at tens of
// thousands of reports a second, per-property decorators cost more than the flush itself.

@ObjectType({ description: 'A job a worker has claimed: the lease to present on every later call, the job, and its secrets.' })
export class Claim {
  @Field(() => String, { description: 'Names this attempt; every later call for it needs the lease.' })
  lease!: string;

  @Field(() => Job, { description: 'The claimed job (now RUNNING). `step` says where to start: every later step runs too.' })
  job!: Job;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description: 'The job secrets, decrypted, for this worker only; null when it has none.',
  })
  secrets!: Record<string, unknown> | null;
}

@ObjectType({ description: 'What a heartbeat learns about the job.' })
export class HeartbeatResult {
  @Field(() => Boolean, { description: 'True when someone cancelled the job: stop, then call confirmCancel.' })
  cancelRequested!: boolean;

  @Field(() => JobStatus, { description: 'The job status now.' })
  status!: JobStatus;

  @Field(() => TrapDecision, {
    nullable: true,
    description:
      'After a trap is resolved with RETRY or SKIP: what to do. Repeated on every heartbeat while RUNNING until the worker traps again (so a lost answer loses nothing); act on it once. Null otherwise.',
  })
  trapDecision!: TrapDecision | null;

  @Field(() => Int, {
    description:
      "The last sequence number of this lease's progress reports that is stored (0: none). Reports up to it need never be sent again.",
  })
  storedSequence!: number;
}

@InputType({ description: "Progress of one of a job's tasks (a table, a file, a mailbox folder)." })
export class TaskReport {
  @Field(() => String, { description: `Task name, unique within the job (at most ${REPORT_LIMITS.taskNameChars} characters).` })
  name!: string;

  @Field(() => TaskStatus, { nullable: true, description: 'WAITING, PROCESSING, COMPLETED or FAILED; unchanged when omitted.' })
  status?: TaskStatus | null;

  @Field(() => Float, { nullable: true, description: 'Units done.' })
  done?: number | null;

  @Field(() => Float, { nullable: true, description: 'Units in all; null while unknown (unchanged when omitted).' })
  total?: number | null;

  @Field(() => String, { nullable: true, description: 'What is counted.' })
  unit?: string | null;

  @Field(() => String, { nullable: true, description: `A status line (at most ${REPORT_LIMITS.messageChars} characters).` })
  message?: string | null;
}

@InputType({
  description:
    'A progress report for one attempt. Omitted fields keep their value; `total: null` says the total is not known (yet): the progress is then indeterminate.',
})
export class ProgressReport {
  @Field(() => String, { description: 'The lease from claimJob.' })
  lease!: string;

  @Field(() => Int, {
    nullable: true,
    description:
      "Numbers the lease's reports 1, 2, 3... so that none is lost or counted twice: reportProgress answers only once sequenced reports are stored, one already stored is ignored, one after a gap is refused (CONFLICT, SEQUENCE_GAP). Send either sequenced reports or unsequenced ones for a lease, not both.",
  })
  sequence?: number | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      "When the worker wrote this report's log lines (and made its phase or step change): their time in the timeline, kept between the attempt's start and now. The time the server writes them when omitted.",
  })
  at?: Date | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Units done in this attempt. Derived from the tasks when omitted and tasks are reported.',
  })
  done?: number | null;

  @Field(() => Float, { nullable: true, description: 'Units in all; null while counting.' })
  total?: number | null;

  @Field(() => String, { nullable: true, description: 'What is counted ("rows", "messages").' })
  unit?: string | null;

  @Field(() => String, { nullable: true, description: 'The phase ("counting", "copying").' })
  phase?: string | null;

  @Field(() => String, { nullable: true, description: `A status line for the monitor (at most ${REPORT_LIMITS.messageChars} characters).` })
  message?: string | null;

  @Field(() => JobStep, { nullable: true, description: 'The step now running.' })
  step?: JobStep | null;

  @Field(() => [TaskReport], { nullable: true, description: `Task progress (at most ${REPORT_LIMITS.tasksPerReport} per report).` })
  tasks?: TaskReport[] | null;

  @Field(() => [String], {
    nullable: true,
    description: `Log lines for the timeline (at most ${REPORT_LIMITS.logLinesPerReport} per report, ${REPORT_LIMITS.logLineChars} characters each).`,
  })
  log?: string[] | null;
}
