import { useEffect, useRef } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import type { JobStatus } from '../../gql/graphql';
import { duration, label, localTime, utcTitle } from '../../lib/format';

const AttemptsQuery = graphql(`
  query JobAttempts($id: ID!) {
    job(id: $id) {
      id
      attempts {
        attempt
        status
        step
        workerId
        startedAt
        finishedAt
        duration
        error {
          message
          stack
        }
      }
    }
  }
`);

/**
 * Every run of the job, newest first, each with how it ended and its error with the stack trace.
 * Read again when the job's attempt or status changes (pushed by the page's subscription).
 */
export function Attempts({ id, attempt, status }: { id: string; attempt: number; status: JobStatus }) {
  const [{ data, error }, refetch] = useQuery({ query: AttemptsQuery, variables: { id } });
  // Read again on a change only: the query above has just read it for the first render.
  const seen = useRef(`${attempt}:${status}`);
  useEffect(() => {
    const now = `${attempt}:${status}`;
    if (seen.current === now) return;
    seen.current = now;
    refetch({ requestPolicy: 'network-only' });
  }, [attempt, status, refetch]);
  const attempts = data?.job?.attempts;
  return (
    <section className="card" aria-labelledby="attempts-title">
      <h2 id="attempts-title">Attempts</h2>
      {error !== undefined && <p role="alert">The attempts could not be loaded: {error.message}</p>}
      {attempts === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <table className="plain attempts">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Status</th>
              <th scope="col">Step</th>
              <th scope="col">Worker</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a) => (
              <tr key={a.attempt} data-attempt={a.attempt}>
                <td>{a.attempt}</td>
                <td>
                  <span className={`status s-${a.status.toLowerCase()}`}>{label(a.status)}</span>
                </td>
                <td>{a.step ?? ''}</td>
                <td>{a.workerId ?? ''}</td>
                <td title={utcTitle(a.startedAt)}>{localTime(a.startedAt)}</td>
                <td title={utcTitle(a.finishedAt)}>{localTime(a.finishedAt)}</td>
                <td>{duration(a.duration)}</td>
                <td className="attempt-error">
                  {a.error != null && (
                    <>
                      <span>{a.error.message}</span>
                      {a.error.stack != null && (
                        <details>
                          <summary>Stack trace of attempt {a.attempt}</summary>
                          <pre className="stack">{a.error.stack}</pre>
                        </details>
                      )}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
