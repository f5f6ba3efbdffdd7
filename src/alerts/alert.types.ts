import { ArrayMaxSize, ArrayMinSize, IsOptional, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { graphqlEnum } from '../graphql/graphql-enum';
import { DateTimeScalar, JSONScalar } from '../graphql/scalars';
import { JobFilter } from '../jobs/job-filter.input';
import { JobEventKind } from '../notifications/notification.types';

export const DeliveryStatus = graphqlEnum('AlertDeliveryStatus', 'Where a delivery (webhook or email) is.', {
  PENDING: 'Waiting for its (next) attempt.',
  DELIVERING: 'Being sent now.',
  DELIVERED: 'The receiver answered 2xx (webhook), or the SMTP server accepted the message (email).',
  FAILED:
    "Every attempt failed, or it may not be sent any more (the owner's permissions, a receiver on a refused address): lastError says which. Never retried.",
  CANCELLED: 'Not sent: its rule was disabled first. Never sent, also when the rule is enabled again.',
});
export type DeliveryStatus = keyof typeof DeliveryStatus;

@InputType({ description: 'An alert rule: which jobs, which events, and where to send them.' })
export class AlertRuleInput {
  @Field(() => String, { description: 'A name for people (1 to 200 characters).' })
  @Length(1, 200)
  name!: string;

  @Field(() => JobFilter, { nullable: true, description: 'Which jobs; every job the owner may view when omitted.' })
  filter?: JobFilter | null;

  @Field(() => [JobEventKind], { description: 'The events that fire the rule (1 to 10).' })
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  events!: JobEventKind[];

  @Field(() => String, {
    nullable: true,
    description:
      'The http(s) URL that receives the signed JSON deliveries; no credentials in it. Private, loopback and link-local addresses are refused unless the server allows them (ALERT_ALLOW_PRIVATE_NETWORKS). A rule has one destination: webhookUrl or email.',
  })
  @IsOptional()
  @MaxLength(2000)
  webhookUrl?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The email address that receives the alerts (through the server's SMTP_URL, from ALERT_EMAIL_FROM), with the job's error and link; same outbox, retries and delivery log as webhooks. A rule has one destination: webhookUrl or email.",
  })
  @IsOptional()
  @MaxLength(254)
  email?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Whether the rule fires: true when omitted on create; omitted on update, it stays as it was. Disabling cancels deliveries not yet sent.',
  })
  enabled?: boolean | null;
}

@ObjectType({ description: "An alert rule of the viewer's: matching job events are sent to its webhook or email address." })
export class AlertRule {
  @Field(() => ID, { description: 'The rule id.' })
  id!: string;

  @Field(() => String, {
    description: 'Who owns it: it only ever sees the jobs its owner may view, and fires only while they have manage_alerts.',
  })
  owner!: string;

  @Field(() => String, { description: 'Its name.' })
  name!: string;

  @Field(() => JSONScalar, { description: 'Its JobFilter, as given.' })
  filter!: unknown;

  @Field(() => [JobEventKind], { description: 'The events that fire it.' })
  events!: JobEventKind[];

  @Field(() => String, { nullable: true, description: 'Where deliveries are POSTed, when the rule sends webhooks.' })
  webhookUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'Where deliveries are emailed, when the rule sends email.' })
  email!: string | null;

  @Field(() => Boolean, { description: 'Whether it fires.' })
  enabled!: boolean;

  @Field(() => DateTimeScalar, { description: 'When it was created.' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: 'When it last changed.' })
  updatedAt!: Date;
}

@ObjectType({ description: 'A new alert rule and its signing secret, shown this once.' })
export class CreatedAlertRule {
  @Field(() => AlertRule, { description: 'The rule.' })
  rule!: AlertRule;

  @Field(() => String, {
    description:
      'The secret that signs its webhook deliveries (HMAC-SHA256; see the README). Shown only now: store it with the receiver. Emails are not signed.',
  })
  secret!: string;
}

@ObjectType({ description: 'One delivery (a webhook POST or an email) of an alert rule, with its attempts.' })
export class AlertDelivery {
  @Field(() => ID, { description: 'Delivery id; also the X-Jobwatch-Delivery header (receivers deduplicate on it).' })
  id!: string;

  @Field(() => JobEventKind, { description: 'The event.' })
  event!: JobEventKind;

  @Field(() => ID, { description: 'The job.' })
  jobId!: string;

  @Field(() => DeliveryStatus, { description: 'Where it is.' })
  status!: DeliveryStatus;

  @Field(() => Int, { description: 'Attempts so far.' })
  attempts!: number;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed.' })
  lastError!: string | null;

  @Field(() => Int, {
    nullable: true,
    description: "The receiver's last HTTP status (webhooks) or SMTP reply code (email), if it answered.",
  })
  lastStatusCode!: number | null;

  @Field(() => DateTimeScalar, { description: 'When the event was turned into this delivery.' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the next attempt is due, while PENDING.' })
  nextAttemptAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was delivered.' })
  deliveredAt!: Date | null;
}
