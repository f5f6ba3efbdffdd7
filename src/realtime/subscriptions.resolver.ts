import { Ctx, FieldResolver, Resolver, Root, Subscription, Arg, ID, Int } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { Context } from '../graphql/context';
import { useEventLoaders } from '../graphql/context';
import { BadUserInputError, NotFoundError } from '../graphql/errors';
import { SqlParams } from '../db/sql-params';
import { JobFilter } from '../jobs/job-filter.input';
import { compileFilter } from '../jobs/job-filter.match';
import { jobFilterConditions } from '../jobs/job-filter.sql';
import { toJob } from '../jobs/job.row';
import { Job } from '../jobs/job.types';
import { assertJobId, findVisibleJob } from '../jobs/sql/find-job';
import { listJobs } from '../jobs/sql/list-jobs';
import { TimelineEvent, toTimelineEvent, type TimelineRow } from '../jobs/timeline.types';
import { visibleJobsWhere } from '../jobs/visible-jobs';
import { REMOVED_LOADERS } from './event-batch';
import type { JobEvent } from './job-event-hub';
import { JobFeed } from './job-feed';
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

@Resolver(() => Job)
export class SubscriptionsResolver {
  @Subscription(() => Job, {
    description:
      'Every visible change of the jobs matching the filter. First a snapshot: the first `snapshot` matching jobs, newest first (the first page of the list). Then each change, in order per job. A job that stops matching (an ACTIVE job finishing) is sent once more with its new state; one that is deleted or that the viewer may no longer see is sent once with `removed: true`.',
    subscribe: async ({ args, context }: Data) => {
      const filter = (args['filter'] ?? null) as JobFilter | null;
      jobFilterConditions(filter, new SqlParams()); // validates, like the list query does
      const snapshot = (args['snapshot'] ?? 50) as number;
      if (!Number.isInteger(snapshot) || snapshot < 0 || snapshot > MAX_SNAPSHOT) {
        throw new BadUserInputError(`snapshot must be between 0 and ${MAX_SNAPSHOT}`, 'snapshot');
      }
      const { hub } = context.services;
      let unsubscribe = () => {};
      const feed = new JobFeed(context, false, 0, () => unsubscribe());
      const membership = hub.subscribeAll(JSON.stringify(filter ?? {}), compileFilter(filter), {
        userId: context.principal.id,
        deliver: feed.deliver,
      });
      unsubscribe = membership.unsubscribe;
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
        // Batches read before the snapshot are delivered (and sorted out by the feed) before it goes live.
        await hub.settled();
        feed.start(first.rows);
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
    @Arg('filter', () => JobFilter, { nullable: true, description: 'Which jobs; every visible job when omitted.' }) _filter: JobFilter | null,
    @Arg('snapshot', () => Int, { nullable: true, defaultValue: 50, description: 'How many matching jobs to send first (0 to 500).' })
    _snapshot: number | null,
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
      const feed = new JobFeed(context, true, config.progressFlushMs, () => unsubscribe());
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
  jobProgress(@Root() event: JobEvent, @Ctx() ctx: Context, @Arg('id', () => ID, { description: 'The job id.' }) _id: string): SubscriptionJob {
    return jobOf(event, ctx);
  }

  @Subscription(() => TimelineEvent, {
    description:
      "One job's new timeline events, in order. With `after` (an event id), the events after it are replayed first, however many, so a client that reconnects misses nothing. Ends after the DELETED event, or when the viewer loses sight of the job.",
    subscribe: async ({ args, context }: Data) => {
      const jobId = assertJobId(String(args['id']));
      const after = args['after'] == null ? undefined : String(args['after']);
      if (after !== undefined && (!/^\d{1,19}$/.test(after) || BigInt(after) > MAX_EVENT_ID)) {
        throw new BadUserInputError('after must be a timeline event id', 'after');
      }
      const row = await findVisibleJob(context, jobId);
      if (row === undefined) throw new NotFoundError('Job', jobId);
      const { hub, sql } = context.services;
      let lastEventId: bigint;
      if (after === undefined) {
        const latest = await sql.one<{ id: string | null }>('SELECT max(id)::text AS id FROM timeline_events WHERE job_id = $1', [jobId]);
        lastEventId = BigInt(latest?.id ?? 0);
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
