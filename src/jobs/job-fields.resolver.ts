import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context';
import { BadUserInputError } from '../errors';
import { TaskStatus } from './job.enums';
import { Job } from './job.types';
import { countTasks, Task, TaskCounts } from './task.types';
import { TimelineConnection, TimelineKind, toTimelineEvent } from './timeline.types';
import { jobUrl } from './job-url';

const TIMELINE_CURSOR = /^t1:(0|[1-9]\d{0,18})$/;
/** timeline_events.id is a bigint: a larger id would be refused by Postgres, not by us. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

function decodeTimelineCursor(after: string): string {
  const decoded = Buffer.from(after, 'base64url').toString('utf8');
  const match = TIMELINE_CURSOR.exec(decoded);
  if (match === null || BigInt(match[1] as string) > MAX_BIGINT) {
    throw new BadUserInputError('`after` is not a cursor returned by this timeline', 'after');
  }
  return match[1] as string;
}

const encodeTimelineCursor = (id: string): string => Buffer.from(`t1:${id}`).toString('base64url');

/** Fields of a job that need more than its row: its tasks and its history. */
@Resolver(() => Job)
export class JobFieldsResolver {
  @FieldResolver(() => [Task], { description: 'The tasks of the job in display order, optionally only those in one state.' })
  async tasks(
    @Root() job: Job,
    @Ctx() ctx: Context,
    @Arg('status', () => TaskStatus, { nullable: true, description: 'Only tasks in this state.' }) status: TaskStatus | null,
  ): Promise<Task[]> {
    const tasks = await ctx.loaders.tasksByJob.load(job.id);
    return status == null ? tasks : tasks.filter((task) => task.status === status);
  }

  @FieldResolver(() => TaskCounts, { description: 'How many tasks are waiting, processing, completed and failed.' })
  async taskCounts(@Root() job: Job, @Ctx() ctx: Context): Promise<TaskCounts> {
    return countTasks(await ctx.loaders.tasksByJob.load(job.id));
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "The console's page for the job (PUBLIC_URL + /jobs/<id>); null when the server has no PUBLIC_URL.",
  })
  url(@Root() job: Job, @Ctx() ctx: Context): string | null {
    return jobUrl(ctx.services.config.publicUrl, job.id);
  }

  @FieldResolver(() => TimelineConnection, {
    description: "The job's history, oldest first: state changes, actions (who, when, why), milestones and log lines, across attempts.",
  })
  async timeline(
    @Root() job: Job,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 100, description: 'Page size, 0 to 500.' }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the previous page.' }) after: string | null,
    @Arg('kinds', () => [TimelineKind], {
      nullable: true,
      description:
        'Only events of these kinds (state changes without the log lines, say); every kind when omitted. An empty list is BAD_USER_INPUT.',
    })
    kinds: TimelineKind[] | null,
  ): Promise<TimelineConnection> {
    if (first < 0 || first > 500) throw new BadUserInputError(`first must be between 0 and 500, got ${first}`, 'first');
    if (kinds != null && kinds.length === 0)
      throw new BadUserInputError('kinds must name at least one kind; omit it for every kind', 'kinds');
    const afterId = after == null ? '0' : decodeTimelineCursor(after);
    // Through the loader: a list (or a subscription batch) asking for timelines is one query.
    const rows = [...(await ctx.loaders.timelinePage.load({ jobId: job.id, after: afterId, limit: first + 1, kinds: kinds ?? undefined }))];
    const hasNextPage = rows.length > first;
    if (hasNextPage) rows.pop();
    const nodes = rows.map(toTimelineEvent);
    return {
      nodes,
      pageInfo: {
        hasNextPage,
        hasPreviousPage: after != null,
        startCursor: nodes[0] === undefined ? null : encodeTimelineCursor(nodes[0].id),
        endCursor: nodes.length === 0 ? null : encodeTimelineCursor((nodes[nodes.length - 1] as { id: string }).id),
      },
    };
  }
}
