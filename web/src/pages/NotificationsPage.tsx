import { useEffect, useState } from 'react';
import { useClient, useMutation } from 'urql';
import { graphql } from '../gql';
import type { NotificationRowFragment } from '../gql/graphql';
import { label, localTime, utcTitle } from '../lib/format';
import { Link, useTitle } from '../lib/router';
import { useNotifications } from '../lib/useNotifications';

export const NotificationRow = graphql(`
  fragment NotificationRow on Notification {
    id
    kind
    jobId
    jobName
    actor
    message
    createdAt
    readAt
  }
`);

const NotificationsPageQuery = graphql(`
  query NotificationsPage($after: String) {
    notifications(first: 50, after: $after) {
      nodes {
        ...NotificationRow
      }
      pageInfo {
        hasNextPage
        endCursor
      }
      unreadCount
    }
  }
`);

const MarkRead = graphql(`
  mutation MarkNotificationsRead($ids: [ID!], $all: Boolean) {
    markNotificationsRead(ids: $ids, all: $all)
  }
`);

/** The viewer's notifications, newest first: new ones arrive live, each can be marked read. */
export function NotificationsPage() {
  useTitle('Notifications');
  const client = useClient();
  const live = useNotifications();
  const [pages, setPages] = useState<readonly NotificationRowFragment[]>([]);
  const [cursor, setCursor] = useState<{ hasNextPage: boolean; endCursor?: string | null | undefined }>({ hasNextPage: false });
  const [loaded, setLoaded] = useState(false);
  const [readIds, setReadIds] = useState<ReadonlySet<string>>(new Set());
  const [, markRead] = useMutation(MarkRead);
  const fetchPage = (after: string | null) =>
    client.query(NotificationsPageQuery, { after }, { requestPolicy: 'network-only' }).toPromise();
  const apply = (result: Awaited<ReturnType<typeof fetchPage>>) => {
    const page = result.data?.notifications;
    if (page) {
      setPages((seen) => [...seen, ...page.nodes]);
      setCursor(page.pageInfo);
    }
    setLoaded(true);
  };
  const load = async (after: string | null) => apply(await fetchPage(after));
  useEffect(() => {
    void fetchPage(null).then(apply);
    // The first page once, when the page opens (later pages by the button).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const byId = new Map<string, NotificationRowFragment>();
  for (const n of [...live.arrived, ...pages]) if (!byId.has(n.id)) byId.set(n.id, n);
  const all = [...byId.values()].sort((a, b) =>
    a.createdAt === b.createdAt ? b.id.localeCompare(a.id, undefined, { numeric: true }) : a.createdAt < b.createdAt ? 1 : -1,
  );
  const isRead = (n: NotificationRowFragment) => n.readAt != null || readIds.has(n.id);
  const read = async (ids: string[] | undefined) => {
    const result = await markRead(ids === undefined ? { all: true } : { ids });
    if (result.error === undefined) {
      setReadIds((seen) => new Set([...seen, ...(ids ?? all.map((n) => n.id))]));
      live.refresh();
    }
  };
  return (
    <section>
      <h1>Notifications</h1>
      <p>
        <span data-testid="unread-count">{live.unread ?? '…'}</span> unread{' '}
        <button type="button" onClick={() => read(undefined)} disabled={live.unread === 0}>
          Mark all read
        </button>
      </p>
      {!loaded ? (
        <p aria-busy="true">Loading…</p>
      ) : all.length === 0 ? (
        <p className="empty">No notifications yet: they come when your jobs start, finish or fail, and when one waits for your approval.</p>
      ) : (
        <ul className="notifications" aria-live="polite">
          {all.map((n) => (
            <li key={n.id} className={isRead(n) ? 'read' : 'unread'}>
              <time dateTime={n.createdAt} title={utcTitle(n.createdAt)}>
                {localTime(n.createdAt)}
              </time>{' '}
              <strong>{label(n.kind)}</strong> <Link href={`/jobs/${encodeURIComponent(n.jobId)}`}>{n.jobName}</Link>
              {n.actor != null && ` by ${n.actor}`}
              {n.message != null && `: ${n.message}`}{' '}
              {!isRead(n) && (
                <button type="button" onClick={() => read([n.id])} aria-label={`Mark ${label(n.kind).toLowerCase()} of ${n.jobName} read`}>
                  Mark read
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {cursor.hasNextPage && (
        <button type="button" onClick={() => load(cursor.endCursor ?? null)}>
          Older notifications
        </button>
      )}
    </section>
  );
}
