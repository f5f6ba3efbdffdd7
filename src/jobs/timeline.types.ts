import { Field, ID, Int, ObjectType } from 'type-graphql';
import { graphqlEnum } from '../graphql/graphql-enum';
import { DateTimeScalar, JSONScalar } from '../graphql/scalars';
import { JobStatus, JobStep } from './job-status';
import { PageInfo } from '../graphql/page-info.type';

/** Every kind of timeline event, with what it records. */
export const TIMELINE_KINDS = {
  CREATED: 'The job was created (and submitted, when toStatus is not CREATED).',
  SUBMITTED: 'startJob: the job was queued, or sent for approval.',
  APPROVED: 'An approver approved the job.',
  REJECTED: 'An approver rejected the job.',
  CLAIMED: 'A worker claimed the job and started an attempt.',
  CANCEL_REQUESTED: 'Someone asked a running job to stop.',
  CANCELLED: 'The job was cancelled.',
  RESTARTED: 'The job was rerun from a step (a new attempt).',
  RESCHEDULED: 'The schedule changed.',
  TRAPPED: 'The worker trapped an error and waits for a decision.',
  TRAP_PAUSED: "Someone paused the trap's timeout.",
  TRAP_RESOLVED: 'Someone decided a trap: RETRY, SKIP or ABORT.',
  STEP_COMPLETED:
    "The worker completed a step (completeStep): the event's step is the next one, RUNNING, or RUN waiting for scheduledAt (PENDING).",
  ROLLBACK_STARTED: 'The worker started undoing its work.',
  SUCCEEDED: 'The job finished successfully.',
  FAILED: 'The job failed.',
  EXPIRED: 'The job did not start before maxStartAt.',
  ABENDED: "The job's worker stopped heartbeating.",
  DELETED: 'The job was deleted (a tombstone: the history survives).',
  PROGRESS: 'A progress milestone (every 25 %) or a phase or step change.',
  LOG: 'A log line from the worker.',
  SLOWER_THAN_USUAL: "The running job passed its type's p95 duration (once per attempt).",
} as const;
export const TimelineKind = graphqlEnum('TimelineEventKind', 'What a timeline event records.', TIMELINE_KINDS);
export type TimelineKind = keyof typeof TIMELINE_KINDS;

export const ActorKind = graphqlEnum('ActorKind', 'Who caused an event.', {
  USER: 'A person, through the API.',
  WORKER: "The job's worker.",
  SYSTEM: 'Jobwatch itself (the daemon: expiry, lost heartbeats, timeouts).',
});
export type ActorKind = keyof typeof ActorKind;

@ObjectType({
  simpleResolvers: true,
  description: "One entry of a job's history: a state change, a person's action, a milestone or a log line.",
})
export class TimelineEvent {
  @Field(() => ID, { description: 'Event id; ids grow with time.' })
  id!: string;

  @Field(() => ID, { description: 'The job it belongs to.' })
  jobId!: string;

  @Field(() => DateTimeScalar, { description: 'When it happened.' })
  at!: Date;

  @Field(() => TimelineKind, { description: 'What happened.' })
  kind!: TimelineKind;

  @Field(() => String, { nullable: true, description: 'Who did it: a user or worker id; null for the system.' })
  actor!: string | null;

  @Field(() => ActorKind, { description: 'Whether a person, the worker or the system did it.' })
  actorKind!: ActorKind;

  @Field(() => JobStatus, { nullable: true, description: 'The status before, for state changes.' })
  fromStatus!: JobStatus | null;

  @Field(() => JobStatus, { nullable: true, description: 'The status after, for state changes.' })
  toStatus!: JobStatus | null;

  @Field(() => Int, { nullable: true, description: 'The attempt it belongs to.' })
  attempt!: number | null;

  @Field(() => JobStep, { nullable: true, description: 'The step the job was at.' })
  step!: JobStep | null;

  @Field(() => String, { nullable: true, description: 'The reason, comment, error or log line.' })
  message!: string | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Details, depending on the kind (e.g. the new schedule, the trap decision).' })
  data!: unknown;
}

@ObjectType({ simpleResolvers: true, description: 'A page of timeline events, oldest first.' })
export class TimelineConnection {
  @Field(() => [TimelineEvent], { description: 'The events of this page.' })
  nodes!: TimelineEvent[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;
}

export interface TimelineRow {
  id: string;
  job_id: string;
  at: Date;
  kind: TimelineKind;
  actor_id: string | null;
  actor_kind: ActorKind;
  from_status: JobStatus | null;
  to_status: JobStatus | null;
  attempt: number | null;
  step: JobStep | null;
  message: string | null;
  data: unknown;
}

export const TIMELINE_COLUMNS = 'id, job_id, at, kind, actor_id, actor_kind, from_status, to_status, attempt, step, message, data';

export function toTimelineEvent(row: TimelineRow): TimelineEvent {
  return {
    id: String(row.id),
    jobId: row.job_id,
    at: row.at,
    kind: row.kind,
    actor: row.actor_id,
    actorKind: row.actor_kind,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    attempt: row.attempt,
    step: row.step,
    message: row.message,
    data: row.data,
  };
}
