import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import type { JobRowFragment } from '../../gql/graphql';
import { useActionState } from '../../lib/actions';
import { ConfirmDialog } from '../../lib/ConfirmDialog';
import { duration, label, localTime, utcTitle } from '../../lib/format';
import { Progress } from '../../lib/Progress';
import { Link, navigate } from '../../lib/router';

const CancelJob = graphql(`
  mutation CancelJob($id: ID!, $reason: String) {
    cancelJob(id: $id, reason: $reason) {
      ...JobRow
    }
  }
`);

const ROW_HEIGHT = 44;

const COLUMNS = ['Name', 'Type', 'Asset', 'Status', 'Step', 'Progress', 'Duration', 'Message', 'Created', 'Owner', 'Actions'];

export function JobTable({
  ids,
  byId,
  onEnd,
  hasMore,
}: {
  ids: readonly string[];
  byId: ReadonlyMap<string, JobRowFragment>;
  onEnd: () => void;
  hasMore: boolean;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  // TanStack Virtual hands back fresh functions each render: fine here, the console is not compiled by the React Compiler.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: ids.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index;
  useEffect(() => {
    if (hasMore && lastIndex !== undefined && lastIndex >= ids.length - 10) onEnd();
  }, [hasMore, lastIndex, ids.length, onEnd]);
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if ((event.target as HTMLElement).tagName === 'BUTTON' && event.key === 'Enter') return;
    const move = event.key === 'j' || event.key === 'ArrowDown' ? 1 : event.key === 'k' || event.key === 'ArrowUp' ? -1 : 0;
    if (move !== 0) {
      event.preventDefault();
      const next = Math.min(ids.length - 1, Math.max(0, active + move));
      setActive(next);
      virtualizer.scrollToIndex(next);
    } else if (event.key === 'Enter' && ids[active] !== undefined) navigate(`/jobs/${encodeURIComponent(ids[active])}`);
  };
  return (
    <div
      ref={scroller}
      role="table"
      aria-label="Jobs (j and k move, Enter opens)"
      aria-rowcount={ids.length + 1}
      className="jobs-table scroller"
      tabIndex={0}
      onKeyDown={onKey}
    >
      <div role="rowgroup" className="head">
        <div role="row" className="row head" aria-rowindex={1}>
          {COLUMNS.map((c) => (
            <span key={c} role="columnheader">
              {c}
            </span>
          ))}
        </div>
      </div>
      <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {items.map((item) => {
          const job = byId.get(ids[item.index]!)!;
          return <JobRowView key={job.id} job={job} index={item.index} active={item.index === active} top={item.start} />;
        })}
      </div>
    </div>
  );
}

/** One row; re-rendered only when its job, place or focus changes (a pushed update touches one row). */
const JobRowView = memo(function JobRowView({
  job,
  index,
  active,
  top,
}: {
  job: JobRowFragment;
  index: number;
  active: boolean;
  top: number;
}) {
  const actionState = useActionState();
  const cancel = actionState(job, 'cancel');
  const [confirming, setConfirming] = useState(false);
  const [, cancelJob] = useMutation(CancelJob);
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      className={`row${active ? ' active' : ''}`}
      data-job-id={job.id}
      style={{ transform: `translateY(${top}px)` }}
    >
      <span role="cell" className="name">
        <Link href={`/jobs/${encodeURIComponent(job.id)}`}>{job.name}</Link>
      </span>
      <span role="cell">
        <Link href={`/types/${encodeURIComponent(job.type)}`}>{job.type}</Link>
      </span>
      <span role="cell">{job.asset ?? ''}</span>
      <span role="cell">
        <span className={`status s-${job.status.toLowerCase()}`}>{label(job.status)}</span>
      </span>
      <span role="cell">{job.step}</span>
      <span role="cell">
        <Progress job={job} />
      </span>
      <span role="cell">{duration(job.duration)}</span>
      <span role="cell" className="message" title={job.message ?? undefined}>
        {job.message ?? ''}
      </span>
      <span role="cell" title={utcTitle(job.createdAt)}>
        {localTime(job.createdAt)}
      </span>
      <span role="cell">{job.ownerName ?? job.owner}</span>
      <span role="cell">
        {cancel.shown && !job.terminal && (
          <button
            type="button"
            disabled={!cancel.enabled}
            title={cancel.reason}
            aria-label={`Cancel ${job.name}`}
            onClick={() => setConfirming(true)}
          >
            Cancel
          </button>
        )}
        {confirming && (
          <ConfirmDialog
            title={`Cancel ${job.name}?`}
            confirm="Cancel job"
            reasonLabel="Reason (optional)"
            onClose={() => setConfirming(false)}
            onConfirm={async (reason) => {
              const result = await cancelJob({ id: job.id, reason: reason || null });
              return result.error?.graphQLErrors[0]?.message ?? result.error?.message;
            }}
          />
        )}
      </span>
    </div>
  );
});
