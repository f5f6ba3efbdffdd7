/**
 * The demo's people talking to the API over HTTP, exactly like a frontend would: each user has
 * their own token, so every action lands in the timeline under their name and is checked
 * against their roles.
 */
import { GraphQLClient } from '../../src/sdk';

export type JobStatus =
  | 'CREATED'
  | 'WAITING_APPROVAL'
  | 'PENDING'
  | 'RUNNING'
  | 'TRAPPED'
  | 'TRAP_PAUSED'
  | 'CANCELLING'
  | 'ROLLBACK'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELLED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'ABENDED';

export interface CreateJobInput {
  name: string;
  type: string;
  scope: string;
  config?: Record<string, unknown>;
  secrets?: Record<string, unknown>;
  approvers?: string[];
  requiresApproval?: boolean;
  asset?: string;
}

export interface JobFilter {
  types?: string[];
  statuses?: JobStatus[];
  tab?: 'ACTIVE' | 'COMPLETED' | 'FAILED' | 'ALL';
  createdAfter?: string;
  finishedAfter?: string;
}

export interface JobSummary {
  id: string;
  name: string;
  type: string;
  status: JobStatus;
  owner: string;
  attempt: number;
  workerId: string | null;
  approvers: string[];
  progress: { phase: string | null; percent: number | null };
}

const SUMMARY = 'id name type status owner attempt workerId approvers progress { phase percent }';

export class DemoUser {
  private readonly client: GraphQLClient;

  constructor(
    readonly id: string,
    url: string,
    readonly token: string,
  ) {
    this.client = new GraphQLClient({ url, token, timeoutMs: 15_000 });
  }

  async createJob(input: CreateJobInput): Promise<JobSummary> {
    const data = await this.client.request<{ createJob: JobSummary }>(
      `mutation($input: CreateJobInput!) { createJob(input: $input) { ${SUMMARY} } }`,
      { input },
    );
    return data.createJob;
  }

  async jobs(filter: JobFilter, first = 200): Promise<JobSummary[]> {
    const data = await this.client.request<{ jobs: { nodes: JobSummary[] } }>(
      `query($filter: JobFilter, $first: Int) { jobs(filter: $filter, first: $first) { nodes { ${SUMMARY} } } }`,
      { filter, first },
    );
    return data.jobs.nodes;
  }

  async jobCounts(filter: JobFilter): Promise<Map<JobStatus, number>> {
    const data = await this.client.request<{ jobCounts: Array<{ status: JobStatus; count: number }> }>(
      'query($filter: JobFilter) { jobCounts(filter: $filter) { status count } }',
      { filter },
    );
    return new Map(data.jobCounts.map(({ status, count }) => [status, count]));
  }

  approveJob(id: string, comment: string): Promise<unknown> {
    return this.client.request('mutation($id: ID!, $comment: String) { approveJob(id: $id, comment: $comment) { status } }', {
      id,
      comment,
    });
  }

  resolveTrap(id: string, decision: 'RETRY' | 'SKIP' | 'ABORT'): Promise<unknown> {
    return this.client.request('mutation($id: ID!, $decision: TrapDecision!) { resolveTrap(id: $id, decision: $decision) { status } }', {
      id,
      decision,
    });
  }

  cancelJob(id: string, reason: string): Promise<{ cancelJob: { status: JobStatus } }> {
    return this.client.request('mutation($id: ID!, $reason: String) { cancelJob(id: $id, reason: $reason) { status } }', { id, reason });
  }

  restartJob(id: string): Promise<{ restartJob: { status: JobStatus; attempt: number } }> {
    return this.client.request('mutation($id: ID!) { restartJob(id: $id, runNow: true) { status attempt } }', { id });
  }
}
