import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import type { JobDetailFragment as Job, TaskStatus } from '../../gql/graphql';
import { localTime, utcTitle } from '../../lib/format';

const Tasks = graphql(`
  query JobTasks($id: ID!, $status: TaskStatus) {
    job(id: $id) {
      id
      tasks(status: $status) {
        position
        name
        status
        done
        total
        remaining
        unit
        percent
        ratePerMinute
        startedAt
        finishedAt
        message
      }
    }
  }
`);

const TASK_TABS: ReadonlyArray<{ status: TaskStatus; label: string; count: keyof Job['taskCounts'] }> = [
  { status: 'COMPLETED', label: 'Completed', count: 'completed' },
  { status: 'PROCESSING', label: 'Processing', count: 'processing' },
  { status: 'WAITING', label: 'Waiting', count: 'waiting' },
  { status: 'FAILED', label: 'Failed', count: 'failed' },
];

export function TasksTabs({ id, counts, changedAt }: { id: string; counts: Job['taskCounts']; changedAt: string }) {
  const [status, setStatus] = useState<TaskStatus>('PROCESSING');
  const [{ data }, refetch] = useQuery({ query: Tasks, variables: { id, status } });
  // The job's pushed changes say when its tasks moved: read them again then (never on a timer).
  useEffect(() => refetch({ requestPolicy: 'network-only' }), [changedAt, refetch]);
  if (counts.total === 0) return null;
  return (
    <section className="card" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <div role="tablist" aria-label="Task status" className="tabs">
        {TASK_TABS.map((tab) => (
          <button
            key={tab.status}
            type="button"
            role="tab"
            id={`task-tab-${tab.status}`}
            aria-selected={status === tab.status}
            aria-controls="task-panel"
            onClick={() => setStatus(tab.status)}
          >
            {tab.label} <span className="count">{counts[tab.count]}</span>
          </button>
        ))}
      </div>
      <div role="tabpanel" id="task-panel" aria-labelledby={`task-tab-${status}`}>
        <table className="plain">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Task</th>
              <th scope="col">Done</th>
              <th scope="col">Remaining</th>
              <th scope="col">Rows/min</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {(data?.job?.tasks ?? []).map((task) => (
              <tr key={task.position}>
                <td>{task.position}</td>
                <td>{task.name}</td>
                <td>
                  {task.done.toLocaleString()}
                  {task.total != null && ` / ${task.total.toLocaleString()}`} {task.unit ?? ''}
                </td>
                <td>{task.remaining?.toLocaleString() ?? ''}</td>
                <td>{task.ratePerMinute == null ? '' : Math.round(task.ratePerMinute).toLocaleString()}</td>
                <td title={utcTitle(task.startedAt)}>{localTime(task.startedAt)}</td>
                <td title={utcTitle(task.finishedAt)}>{localTime(task.finishedAt)}</td>
                <td>{task.message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
