import { Ctx, FieldResolver, Resolver, Root, Subscription, Arg, ID, Int } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { Context } from '../app/context';
import { useEventLoaders } from '../app/context';
import { BadUserInputError, NotFoundError } from '../errors';
import { SqlParams } from '../db/sql-params';
import { JobFilter } from '../jobs/job-filter.input';
import { compileFilter } from '../jobs/job-filter.match';
import { jobFilterConditions } from '../jobs/job-filter.sql';
import { toJob } from '../jobs/job.row';
import { Job } from '../jobs/job.types';
import { assertJobId, findVisibleJob } from '../jobs/sql/find-job';
import { latestEventId } from '../jobs/sql/latest-event-id';
import { listJobs } from '../jobs/sql/list-jobs';
import { TimelineEvent, toTimelineEvent, type TimelineRow } from '../jobs/timeline.types';
import { visibleJobsWhere } from '../jobs/visible-jobs';
import { REMOVED_LOADERS } from './event-batch';
import type { JobEvent } from './hub-subscribers';
import { JobFeed } from './job-feed';
import { resyncEvents } from './resync';
import { DateTimeScalar } from '../graphql/scalars';
import type { Config } from '../config';
import { TimelineFeed } from './timeline-feed';

const MAX_SNAPSHOT = 500;
/** timeline_events.id is a bigint. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

type Data = SubscribeResolverData<unknown, Record<string, unknown>, Context>;

/** A Job as a subscription sends it: `removed` only on a removal event. */
type SubscriptionJob = Job & { removed?: boolean };

/** An event as the Job it is sent as, its field resolvers reading through the batch's shared loaders. */
function jobOf(event: JobEvent, ctx: Context): SubscriptionJob {
  if (event.removed === true) {
    useEventLoaders(ctx, () => REMOVED_LOADERS);
    return { ...toJob(event.row), removed: true };
  }
  useEventLoaders(ctx, event.batch?.loadersFor);
  return toJob(event.row);
}

/** A client's clock may run a little ahead of the server's: `since` that far ahead counts as now. */
const SINCE_SKEW_MS = 60_000;
const DAY_MS = 86_400_000;

/** jobUpdated's `since`, validated; undefined when nothing is to be resent. */
function resyncSince(raw: unknown, config: Pick<Config, 'retentionDays' | 'subscriptionResyncSeconds'>): Date | undefined {
  const now = Date.now();
  if (raw == null) return config.subscriptionResyncSeconds === 0 ? undefined : new Date(now - config.subscriptionResyncSeconds * 1000);
  const since = raw as Date;
  if (since.getTime() > now + SINCE_SKEW_MS) throw new BadUserInputError("since is in the future (by the server's clock)", 'since');
  if (since.getTime() < now - config.retentionDays * DAY_MS) {
    throw new BadUserInputError(
      `since is before the retention window (RETENTION_DAYS=${config.retentionDays}): what left the view before it is forgotten; drop the list and subscribe without since`,
      'since',
    );
  }
  return new Date(Math.min(since.getTime(), now));
}

@Resolver(() => Job)
export class SubscriptionsResolver {
  @Subscription(() => Job, {
    description:
      'Every visible change of the jobs matching the filter. First a snapshot: the first `snapshot` matching jobs, newest first (the first page of the list). Then each change, in order per job. A job that stops matching (an ACTIVE job finishing) is sent once more with its new state; one that is deleted or that the viewer may no longer see is sent once with `removed: true`.',
    subscribe: async ({ args, context }: Data) => {
      const filter = args['filter'] ?? null;
      jobFilterConditions(filter, new SqlParams()); // validates, like the list query does
      const snapshot = (args['snapshot'] ?? 50) as number;
      if (!Number.isInteger(snapshot) || snapshot < 0 || snapshot > MAX_SNAPSHOT) {
        throw new BadUserInputError(`snapshot must be between 0 and ${MAX_SNAPSHOT}`, 'snapshot');
      }
      const statusChangesOnly = args['statusChangesOnly'] === true;
      const since = resyncSince(args['since'], context.services.config);
      const { hub } = context.services;
      let unsubscribe = () => {};
      const feed = new JobFeed(context, false, 0, () => unsubscribe(), statusChangesOnly, context.services.sendPacer);
      const membership = hub.subscribeAll(
        JSON.stringify([filter ?? {}, statusChangesOnly]),
        filter,
        compileFilter(filter),
        { userId: context.principal.id, deliver: feed.deliver },
        { statusChangesOnly, ability: context.ability },
      );
      unsubscribe = () => membership.unsubscribe();
      try {
        const first =
          snapshot === 0
            ? { rows: [] }
            : await listJobs(context.services.sql, {
                where: visibleJobsWhere(context, filter),
                field: 'CREATED_AT',
                direction: 'DESC',
                first: snapshot,
                after: null,
              });
        membership.saw(first.rows);
        const left = since === undefined ? [] : await resyncEvents(context, filter, since);
        // Batches read before the snapshot are delivered (and sorted out by the feed) before it goes live.
        await hub.settled();
        feed.start(first.rows, left);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return feed;
    },
  })
  jobUpdated(
    @Root() event: JobEvent,
    @Ctx() ctx: Context,
    @Arg('filter', () => JobFilter, { nullable: true, description: 'Which jobs; every visible job when omitted.' })
    _filter: JobFilter | null,
    @Arg('snapshot', () => Int, { nullable: true, defaultValue: 50, description: 'How many matching jobs to send first (0 to 500).' })
    _snapshot: number | null,
    @Arg('statusChangesOnly', () => Boolean, {
      nullable: true,
      defaultValue: false,
      description:
        'After the snapshot, send a job only when its status changes, when it enters the view (a new job, or one the subscription has not sent yet) or when it leaves it; never for progress alone. For lists of thousands of jobs.',
    })
    _statusChangesOnly: boolean | null,
    @Arg('since', () => DateTimeScalar, {
      nullable: true,
      description:
        'After the snapshot, resend each job that left the view since then: one that stopped matching the filter (its state), one deleted or that the viewer lost sight of (`removed: true`). A client that re-subscribes after a reconnect passes the time of the last message it got (less a few seconds) and ends with the truth. Default: SUBSCRIPTION_RESYNC_SECONDS (300) ago. More than a minute ahead of the server, or before the retention window (RETENTION_DAYS), is BAD_USER_INPUT.',
    })
    _since: Date | null,
  ): SubscriptionJob {
    return jobOf(event, ctx);
  }

  @Subscription(() => Job, {
    description:
      'One job: first its current state, then every change: progress at most every PROGRESS_FLUSH_MS, status changes at once. Progress never goes backwards on the wire and the final state is always sent. Ends if the job is deleted or the viewer loses sight of it.',
    subscribe: async ({ args, context }: Data) => {
      const jobId = assertJobId(String(args['id']));
      const { hub, config } = context.services;
      let unsubscribe = () => {};
      const feed = new JobFeed(context, true, config.progressFlushMs, () => unsubscribe(), false, context.services.sendPacer);
      unsubscribe = hub.subscribeJob(jobId, { userId: context.principal.id, deliver: feed.deliver, gone: () => feed.end() });
      try {
        const row = await findVisibleJob(context, jobId);
        if (row === undefined) throw new NotFoundError('Job', jobId);
        await hub.settled();
        feed.start([row]);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return feed;
    },
  })
  jobProgress(
    @Root() event: JobEvent,
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The job id.' }) _id: string,
  ): SubscriptionJob {
    return jobOf(event, ctx);
  }

  @Subscription(() => TimelineEvent, {
    description:
      "One job's new timeline events, in order. With `after` (an event id), the events after it are replayed first, however many, so a client that reconnects misses nothing. Ends after the DELETED event, or when the viewer loses sight of the job.",
    subscribe: async ({ args, context }: Data) => {
      const jobId = assertJobId(String(args['id']));
      const after = (args['after'] as string | null | undefined) ?? undefined; // an ID: graphql-js coerces it to a string
      if (after !== undefined && (!/^\d{1,19}$/.test(after) || BigInt(after) > MAX_EVENT_ID)) {
        throw new BadUserInputError('after must be a timeline event id', 'after');
      }
      const row = await findVisibleJob(context, jobId);
      if (row === undefined) throw new NotFoundError('Job', jobId);
      const { hub, sql } = context.services;
      let lastEventId: bigint;
      if (after === undefined) {
        lastEventId = await latestEventId(sql, jobId);
      } else {
        lastEventId = BigInt(after);
      }
      const feed = new TimelineFeed(context, hub, jobId, lastEventId, after !== undefined);
      try {
        await feed.open();
      } catch (error) {
        await feed.return();
        throw error;
      }
      return feed;
    },
  })
  jobTimeline(
    @Root() event: TimelineRow,
    @Arg('id', () => ID, { description: 'The job id.' }) _id: string,
    @Arg('after', () => ID, { nullable: true, description: 'Replay the events after this event id first.' }) _after: string | null,
  ): TimelineEvent {
    return toTimelineEvent(event);
  }

  @FieldResolver(() => Boolean, {
    description:
      'Only ever true on a jobUpdated event: the job was deleted, or the viewer may no longer see it; drop it from the view. Such an event repeats the last state this subscription sent, nothing newer (its tasks and timeline come back empty). False everywhere else.',
  })
  removed(@Root() job: SubscriptionJob): boolean {
    return job.removed === true;
  }
}
