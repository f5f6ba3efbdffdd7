import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context';
import { verifiedRows } from './verified-read';
import { BadUserInputError } from '../errors';
import { encodeCursor } from './cursor';
import { JobConnection, JobStatusCount } from './job-connection.types';
import { DEFAULT_ORDER, JobFilter, JobOrder } from './job-filter.input';
import { visibleJobsWhere } from './visible-jobs';
import { ALL_STATUSES, type JobStatus } from './job-status';
import { toJob, type JobRow } from './job.row';
import { Job } from './job.types';
import { assertJobId, findVisibleJob } from './sql/find-job';
import { countJobs, countJobsByStatus, listJobsStatement } from './sql/list-jobs';
import { jobSelectList, requestedJobFields } from './job-columns';
import type { JobOrderField } from './job.enums';

export const MAX_PAGE_SIZE = 500;

/** Root query fields that check the permissions version in their own statement (verifiedRows). */
export const SELF_VERIFYING_QUERIES: ReadonlySet<string> = new Set(['jobs', 'job']);

/** The row column a cursor of each order is made from. */
const SORT_COLUMN: Readonly<Record<JobOrderField, string>> = {
  CREATED_AT: 'created_at',
  STARTED_AT: 'started_at',
  FINISHED_AT: 'finished_at',
  NAME: 'name',
};

/** An edge of a page: its cursor is encoded when read, from the row it was made of. */
class PageEdge {
  constructor(
    readonly node: Job,
    private readonly row: JobRow,
    private readonly order: JobOrder,
  ) {}

  get cursor(): string {
    return encodeCursor(this.row, this.order.field, this.order.direction);
  }
}

/*
 * A page and its pageInfo are classes, their lazy fields getters on the prototype, not object
 * literals with getters. V8 makes a literal with getters a dictionary-mode object, and with those
 * pages the rows and jobs of every list request outlived it: young collections promoted them, and
 * only full collections freed them (bench:list, scenario (a): 0.17-0.21 ms of GC pauses per
 * request, 0.03 with these classes, the floor 0.02).
 */

/** Where a page is; its cursors are encoded only when asked for. */
class JobPageInfo {
  constructor(
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean,
    private readonly head: JobRow | undefined,
    private readonly tail: JobRow | undefined,
    private readonly order: JobOrder,
  ) {}

  get startCursor(): string | null {
    return this.head === undefined ? null : encodeCursor(this.head, this.order.field, this.order.direction);
  }

  get endCursor(): string | null {
    return this.tail === undefined ? null : encodeCursor(this.tail, this.order.field, this.order.direction);
  }
}

/** A page of jobs. Edges and cursors are made only when asked for: most lists read `nodes` and `pageInfo.endCursor`. */
class JobPage implements JobConnection {
  private madeEdges: PageEdge[] | undefined;
  readonly pageInfo: JobPageInfo;

  constructor(
    readonly nodes: Job[],
    private readonly rows: JobRow[],
    private readonly order: JobOrder,
    hasNextPage: boolean,
    hasPreviousPage: boolean,
    readonly countTotal: () => Promise<number>,
  ) {
    this.pageInfo = new JobPageInfo(hasNextPage, hasPreviousPage, rows[0], rows[rows.length - 1], order);
  }

  get edges(): PageEdge[] {
    return (this.madeEdges ??= this.rows.map((row, index) => new PageEdge(this.nodes[index] as Job, row, this.order)));
  }
}

@Resolver(() => JobConnection)
export class JobsResolver {
  @Query(() => JobConnection, {
    description: 'Jobs the viewer may see, filtered and ordered, paginated by keyset cursor (`first` at most 500).',
  })
  async jobs(
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    // Not class-validator for every request: jobFilterConditions checks the filter's limits (the
    // same as its decorators, naming the field) before any SQL; the order is two enums.
    @Arg('filter', () => JobFilter, { nullable: true, validate: false, description: 'Which jobs; all visible jobs when omitted.' })
    filter: JobFilter | null,
    @Arg('orderBy', () => JobOrder, {
      nullable: true,
      validate: false,
      description: 'The order; newest first (CREATED_AT DESC) when omitted.',
    })
    orderBy: JobOrder | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: 'Page size, 0 to 500 (50 when omitted).' })
    first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the previous page.' }) after: string | null,
  ): Promise<JobConnection> {
    const size = first ?? 50;
    if (size < 0 || size > MAX_PAGE_SIZE) {
      throw new BadUserInputError(`first must be between 0 and ${MAX_PAGE_SIZE}, got ${size}`, 'first');
    }
    const order = orderBy ?? DEFAULT_ORDER;
    const where = visibleJobsWhere(ctx, filter);
    const query = {
      where,
      field: order.field,
      direction: order.direction,
      first: size,
      after: after ?? null,
      columns: jobSelectList(requestedJobFields(info, 'connection'), [SORT_COLUMN[order.field]]),
    };
    const rows = await verifiedRows(ctx, (withPermissionsVersion) => {
      const statement = listJobsStatement({ ...query, withPermissionsVersion });
      return ctx.services.sql.rows<JobRow>(statement.text, statement.values, { prepare: true });
    });
    // listJobsStatement asks for one row more than the page: it tells whether another page follows.
    const hasNextPage = rows.length > size;
    if (hasNextPage) rows.pop();
    const now = Date.now();
    const nodes = rows.map((row) => toJob(row, now));
    return new JobPage(nodes, rows, order, hasNextPage, after != null, () => countJobs(ctx.services.sql, where));
  }

  @FieldResolver(() => Int, { description: 'How many jobs match the filter in all pages (counted only when asked for).' })
  totalCount(@Root() connection: JobConnection): Promise<number> {
    return connection.countTotal();
  }

  @Query(() => Job, { nullable: true, description: 'One job; null when it does not exist or the viewer may not see it.' })
  async job(
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    @Arg('id', () => ID, { description: 'The job id.' }) id: string,
  ): Promise<Job | null> {
    const jobId = assertJobId(id);
    const columns = jobSelectList(requestedJobFields(info, 'job'));
    const [row] = await verifiedRows(ctx, async (withPermissionsVersion) => {
      const found = await findVisibleJob(ctx, jobId, { columns, withPermissionsVersion });
      return found === undefined ? [] : [found];
    });
    return row === undefined ? null : toJob(row);
  }

  @Query(() => [JobStatusCount], {
    description: 'How many visible jobs matching the filter have each status (every status, zeros included): the tab counters.',
  })
  async jobCounts(
    @Ctx() ctx: Context,
    @Arg('filter', () => JobFilter, { nullable: true, validate: false, description: 'Which jobs; all visible jobs when omitted.' })
    filter: JobFilter | null,
  ): Promise<JobStatusCount[]> {
    const rows = await countJobsByStatus(ctx.services.sql, visibleJobsWhere(ctx, filter));
    const counts = new Map(rows.map((row) => [row.status as JobStatus, row.count]));
    return ALL_STATUSES.map((status) => ({ status, count: counts.get(status) ?? 0 }));
  }
}
