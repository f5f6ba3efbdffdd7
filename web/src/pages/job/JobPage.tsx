import { useSubscription } from 'urql';
import { graphql } from '../../gql';
import type { JobDetailFragment } from '../../gql/graphql';
import { label } from '../../lib/format';
import { Progress } from '../../lib/Progress';
import { Link, useTitle } from '../../lib/router';
import { Attempts } from './Attempts';
import { Details } from './Details';
import { JobActions } from './JobActions';
import { TasksTabs } from './TasksTabs';
import { Timeline } from './Timeline';
import { useKeptQuery } from '../../lib/useKeptQuery';

export const JobDetail = graphql(`
  fragment JobDetail on Job {
    ...JobRow
    config
    attributes
    hasSecrets
    attempt
    workerId
    approvers
    requiresApproval
    scheduledAt
    maxStartAt
    heartbeatAt
    updatedAt
    previousRunDuration
    cancelRequestedAt
    cancelRequestedBy
    trapExpiresAt
    error {
      message
      stack
    }
    taskCounts {
      total
      completed
      processing
      waiting
      failed
    }
  }
`);

const JobPageDoc = graphql(`
  query JobPage($id: ID!) {
    job(id: $id) {
      ...JobDetail
      timeline(first: 100) {
        nodes {
          ...TimelineRow
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const JobLive = graphql(`
  subscription JobLive($id: ID!) {
    jobProgress(id: $id) {
      ...JobDetail
    }
  }
`);

export function JobPage({ id }: { id: string }) {
  const [{ data, error, fetching }] = useKeptQuery({ query: JobPageDoc, variables: { id } });
  const [live] = useSubscription({ query: JobLive, variables: { id } });
  const job = (live.data?.jobProgress ?? data?.job) as JobDetailFragment | undefined;
  useTitle(job?.name ?? 'Job');
  if (error !== undefined && data === undefined) return <p role="alert">The job could not be loaded: {error.message}</p>;
  if (data === undefined && fetching) return <p aria-busy="true">Loading the job…</p>;
  if (data?.job == null || job === undefined) {
    return (
      <section>
        <h1>Job not found</h1>
        <p>
          It does not exist, or you may not see it. <Link href="/">Back to the jobs</Link>
        </p>
      </section>
    );
  }
  return (
    <article className="job">
      <p>
        <Link href="/">← Jobs</Link>
      </p>
      <header className="job-head">
        <h1>{job.name}</h1>
        <span className={`status s-${job.status.toLowerCase()}`} data-testid="job-status">
          {label(job.status)}
        </span>
        <span>step {job.step}</span>
        <Progress job={job} wide />
      </header>
      <JobActions job={job} />
      {job.error != null && (
        <section className="card error-box" aria-labelledby="error-title">
          <h2 id="error-title">Error (attempt {job.attempt})</h2>
          <p>{job.error.message}</p>
          {job.error.stack != null && <pre className="stack">{job.error.stack}</pre>}
        </section>
      )}
      <Details job={job} />
      <Attempts id={job.id} attempt={job.attempt} status={job.status} />
      <TasksTabs id={job.id} counts={job.taskCounts} changedAt={job.progress.updatedAt ?? job.updatedAt} />
      <Timeline id={job.id} first={data.job.timeline} />
    </article>
  );
}
