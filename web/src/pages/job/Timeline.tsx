import { useMemo, useState } from 'react';
import { useClient, useSubscription } from 'urql';
import { graphql } from '../../gql';
import type { JobPageQuery, TimelineEventKind } from '../../gql/graphql';
import { label, localTime, utcTitle } from '../../lib/format';

export const TimelineRow = graphql(`
  fragment TimelineRow on TimelineEvent {
    id
    at
    kind
    actor
    actorKind
    fromStatus
    toStatus
    step
    attempt
    message
    data
  }
`);

const TimelineMore = graphql(`
  query JobTimelineMore($id: ID!, $after: String) {
    job(id: $id) {
      id
      timeline(first: 100, after: $after) {
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

const TimelineLive = graphql(`
  subscription JobTimelineLive($id: ID!, $after: ID) {
    jobTimeline(id: $id, after: $after) {
      ...TimelineRow
    }
  }
`);

type TimelineEvent = NonNullable<JobPageQuery['job']>['timeline']['nodes'][number];

export function Timeline({ id, first }: { id: string; first: NonNullable<JobPageQuery['job']>['timeline'] }) {
  const [events, setEvents] = useState<readonly TimelineEvent[]>(first.nodes);
  const [page, setPage] = useState(first.pageInfo);
  const [kind, setKind] = useState<TimelineEventKind | ''>('');
  // The live tail starts after the last event read (replayed from there, so nothing is missed).
  const after = useMemo(() => first.nodes[first.nodes.length - 1]?.id ?? null, [first]);
  const [live] = useSubscription(
    { query: TimelineLive, variables: { id, after }, pause: first.pageInfo.hasNextPage },
    (seen: TimelineEvent[] = [], event) => [...seen, event.jobTimeline],
  );
  const all = useMemo(() => {
    const byId = new Map<string, TimelineEvent>();
    for (const event of [...events, ...(live.data ?? [])]) byId.set(event.id, event);
    return [...byId.values()];
  }, [events, live.data]);
  const kinds = [...new Set(all.map((e) => e.kind))].sort();
  const shown = kind === '' ? all : all.filter((e) => e.kind === kind);
  const [loading, setLoading] = useState(false);
  const client = useClient();
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <label>
        Kind{' '}
        <select value={kind} onChange={(e) => setKind(e.target.value as TimelineEventKind | '')}>
          <option value="">All</option>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {label(k)}
            </option>
          ))}
        </select>
      </label>
      <ol className="timeline" aria-live="polite">
        {shown.map((event) => (
          <li key={event.id}>
            <time dateTime={event.at} title={utcTitle(event.at)}>
              {localTime(event.at)}
            </time>{' '}
            <strong>{label(event.kind)}</strong>
            {event.fromStatus != null && event.toStatus != null && ` ${label(event.fromStatus)} → ${label(event.toStatus)}`}
            {event.actor != null && ` by ${event.actor}`}
            {event.message != null && `: ${event.message}`}
          </li>
        ))}
      </ol>
      {page.hasNextPage && (
        <button
          type="button"
          disabled={loading}
          onClick={async () => {
            setLoading(true);
            const result = await client.query(TimelineMore, { id, after: page.endCursor ?? null }).toPromise();
            setLoading(false);
            const timeline = result.data?.job?.timeline;
            if (timeline) {
              setEvents((seen) => [...seen, ...timeline.nodes]);
              setPage(timeline.pageInfo);
            }
          }}
        >
          Load more events
        </button>
      )}
    </section>
  );
}
