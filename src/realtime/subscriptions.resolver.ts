import { Ctx, Resolver, Root, Subscription, Arg, ID, Int } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { Context } from '../graphql/context';
import { refreshForEvent } from '../graphql/context';
import { BadUserInputError, NotFoundError } from '../graphql/errors';
import { SqlParams } from '../db/sql-params';
import { JobFilter } from '../jobs/job-filter.input';
import { compileFilter } from '../jobs/job-filter.match';
import { jobFilterConditions } from '../jobs/job-filter.sql';
import { toJob, type JobRow } from '../jobs/job.row';
import { Job } from '../jobs/job.types';
import { assertJobId, findVisibleJob } from '../jobs/sql/find-job';
import { listJobs } from '../jobs/sql/list-jobs';
import { TimelineEvent, toTimelineEvent, type TimelineRow } from '../jobs/timeline.types';
import { visibleJobsWhere } from '../jobs/visible-jobs';
import { CoalescingStream } from './coalescing-stream';

const MAX_SNAPSHOT = 500;

type Data = SubscribeResolverData<unknown, Record<string, unknown>, Context>;

/**
 * A stream of job rows that never goes back in time per job: a row older than the last one sent
 * (same attempt, earlier updated_at; or an earlier attempt) is dropped. Live rows that arrive
 * while the snapshot is read wait for it, so the snapshot is always first.
 */
function jobStream(minIntervalMs: number, onClose: () => void) {
  const newest = new Map<string, { attempt: number; at: number; status: string }>();
  const stream = new CoalescingStream<JobRow>(onClose, { minIntervalMs });
  let buffered: JobRow[] | undefined = [];
  const push = (row: JobRow) => {
    const seen = newest.get(row.id);
    const at = row.updated_at.getTime();
    if (seen !== undefined && (row.attempt < seen.attempt || (row.attempt === seen.attempt && at < seen.at))) return;
    newest.set(row.id, { attempt: row.attempt, at, status: row.status });
    // Progress waits for the interval; a status change (a job finishing) goes out at once.
    stream.push(row.id, row, seen !== undefined && seen.status !== row.status);
  };
  return {
    stream,
    deliver: (row: JobRow) => (buffered === undefined ? push(row) : buffered.push(row)),
    /** Queues the snapshot, then what arrived meanwhile, then goes live. */
    start(snapshot: readonly JobRow[]) {
      for (const row of snapshot) push(row);
      const waiting = buffered ?? [];
      buffered = undefined;
      for (const row of waiting) push(row);
    },
  };
}

@Resolver()
export class SubscriptionsResolver {
  @Subscription(() => Job, {
    description:
      'Every visible change of the jobs matching the filter. First a snapshot: the first `snapshot` matching jobs, newest first (the first page of the list). Then each change, in order per job.',
    subscribe: async ({ args, context }: Data) => {
      const filter = (args['filter'] ?? null) as JobFilter | null;
      jobFilterConditions(filter, new SqlParams()); // validates, like the list query does
      const snapshot = (args['snapshot'] ?? 50) as number;
      if (!Number.isInteger(snapshot) || snapshot < 0 || snapshot > MAX_SNAPSHOT) {
        throw new BadUserInputError(`snapshot must be between 0 and ${MAX_SNAPSHOT}`, 'snapshot');
      }
      const { hub } = context.services;
      let unsubscribe = () => {};
      const feed = jobStream(0, () => unsubscribe());
      unsubscribe = hub.subscribeAll(JSON.stringify(filter ?? {}), {
        userId: context.principal.id,
        wants: compileFilter(filter),
        deliver: feed.deliver,
      });
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
        feed.start(first.rows);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return feed.stream;
    },
  })
  async jobUpdated(
    @Root() row: JobRow,
    @Ctx() ctx: Context,
    @Arg('filter', () => JobFilter, { nullable: true, description: 'Which jobs; every visible job when omitted.' }) _filter: JobFilter | null,
    @Arg('snapshot', () => Int, { nullable: true, defaultValue: 50, description: 'How many matching jobs to send first (0 to 500).' })
    _snapshot: number | null,
  ): Promise<Job> {
    await refreshForEvent(ctx);
    return toJob(row);
  }

  @Subscription(() => Job, {
    description:
      'One job: first its current state, then every change: progress at most every PROGRESS_FLUSH_MS, status changes at once. Progress never goes backwards on the wire and the final state is always sent. Ends if the job is deleted or the viewer loses sight of it.',
    subscribe: async ({ args, context }: Data) => {
      const jobId = assertJobId(String(args['id']));
      const { hub, config } = context.services;
      let unsubscribe = () => {};
      const feed = jobStream(config.progressFlushMs, () => unsubscribe());
      unsubscribe = hub.subscribeJob(jobId, {
        userId: context.principal.id,
        wants: () => true,
        deliver: feed.deliver,
        gone: () => feed.stream.end(),
      });
      const row = await findVisibleJob(context, jobId).catch((error: unknown) => {
        unsubscribe();
        throw error;
      });
      if (row === undefined) {
        unsubscribe();
        throw new NotFoundError('Job', jobId);
      }
      feed.start([row]);
      return feed.stream;
    },
  })
  async jobProgress(@Root() row: JobRow, @Ctx() ctx: Context, @Arg('id', () => ID, { description: 'The job id.' }) _id: string): Promise<Job> {
    await refreshForEvent(ctx);
    return toJob(row);
  }

  @Subscription(() => TimelineEvent, {
    description:
      "One job's new timeline events, in order. With `after` (an event id), the events after it are replayed first, so a client that reconnects misses nothing. Ends after the DELETED event.",
    subscribe: async ({ args, context }: Data) => {
      const jobId = assertJobId(String(args['id']));
      const after = args['after'] == null ? undefined : String(args['after']);
      if (after !== undefined && !/^\d{1,19}$/.test(after)) throw new BadUserInputError('after must be a timeline event id', 'after');
      const row = await findVisibleJob(context, jobId);
      if (row === undefined) throw new NotFoundError('Job', jobId);
      const { hub, sql } = context.services;
      let lastEventId = BigInt(after ?? 0);
      if (after === undefined) {
        const latest = await sql.one<{ id: string | null }>('SELECT max(id)::text AS id FROM timeline_events WHERE job_id = $1', [jobId]);
        lastEventId = BigInt(latest?.id ?? 0);
      }
      let unsubscribe = () => {};
      const stream = new CoalescingStream<TimelineRow>(() => unsubscribe());
      unsubscribe = hub.subscribeTimeline(jobId, {
        userId: context.principal.id,
        lastEventId,
        deliver: (event) => {
          stream.push(String(event.id), event);
          if (event.kind === 'DELETED') stream.end();
        },
      });
      await hub.catchUpTimeline(jobId);
      return stream;
    },
  })
  jobTimeline(
    @Root() event: TimelineRow,
    @Arg('id', () => ID, { description: 'The job id.' }) _id: string,
    @Arg('after', () => ID, { nullable: true, description: 'Replay the events after this event id first.' }) _after: string | null,
  ): TimelineEvent {
    return toTimelineEvent(event);
  }
}
