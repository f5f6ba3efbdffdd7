import { Field, ID, Int, ObjectType } from 'type-graphql';
import { graphqlEnum } from '../graphql/graphql-enum';
import { DateTimeScalar } from '../graphql/scalars';
import { PageInfo } from '../graphql/page-info.type';
import { jobUrl } from '../jobs/job-url';

/** What a job event tells its people (also the events alert rules fire on). */
export const JOB_EVENTS = {
  STARTED: 'A worker started the job.',
  SUCCEEDED: 'The job finished successfully.',
  FAILED: 'The job failed.',
  ABENDED: "The job's worker vanished.",
  EXPIRED: 'The job did not start before its deadline.',
  CANCELLED: 'The job was cancelled (by whom: actor).',
  REJECTED: 'An approver rejected the job.',
  TRAPPED: 'The job trapped an error and waits for a decision.',
  WAITING_APPROVAL:
    'The job waits for approval: sent to its named approvers who may approve it (approve, or approve_all), or, when it names none, to everyone whose approve_all covers it.',
  SLOWER_THAN_USUAL: "The running job has run longer than its type's p95.",
} as const;
export const JobEventKind = graphqlEnum('JobEventKind', 'Events people are told about, and that alert rules fire on.', JOB_EVENTS);
export type JobEventKind = keyof typeof JOB_EVENTS;

@ObjectType({
  description:
    "Something that happened to one of the viewer's jobs, or a job waiting for their approval (they are a named approver allowed to approve it, or the job names no approvers and their approve_all covers it).",
})
export class Notification {
  @Field(() => ID, { description: 'Notification id; ids grow with time.' })
  id!: string;

  @Field(() => JobEventKind, { description: 'What happened.' })
  kind!: JobEventKind;

  @Field(() => ID, { description: 'The job.' })
  jobId!: string;

  @Field(() => String, {
    nullable: true,
    description: "The console's page for the job (PUBLIC_URL + /jobs/<id>); null without PUBLIC_URL.",
  })
  jobUrl!: string | null;

  @Field(() => String, { description: 'The job name when it happened.' })
  jobName!: string;

  @Field(() => String, { nullable: true, description: 'Who caused it (a user, a worker); null for the system.' })
  actor!: string | null;

  @Field(() => String, { nullable: true, description: 'The reason, comment or error, when there is one.' })
  message!: string | null;

  @Field(() => DateTimeScalar, { description: 'When it happened.' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the viewer marked it read; null while unread.' })
  readAt!: Date | null;
}

@ObjectType({ description: "A page of the viewer's notifications, newest first." })
export class NotificationConnection {
  @Field(() => [Notification], { description: 'The notifications of this page.' })
  nodes!: Notification[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many of the viewer’s notifications are unread (all pages).' })
  unreadCount!: number;
}

export interface NotificationRow {
  id: string;
  user_id: string;
  job_id: string;
  kind: JobEventKind;
  actor_id: string | null;
  message: string | null;
  job_name: string;
  job_scope: string;
  job_type: string;
  job_owner_id: string;
  job_approvers: string[];
  created_at: Date;
  read_at: Date | null;
}

export const NOTIFICATION_COLUMNS =
  'id, user_id, job_id, kind, actor_id, message, job_name, job_scope, job_type, job_owner_id, job_approvers, created_at, read_at';

export function toNotification(row: NotificationRow, publicUrl: string | undefined): Notification {
  return {
    id: String(row.id),
    kind: row.kind,
    jobId: row.job_id,
    jobUrl: jobUrl(publicUrl, row.job_id),
    jobName: row.job_name,
    actor: row.actor_id,
    message: row.message,
    createdAt: row.created_at,
    readAt: row.read_at,
  };
}
