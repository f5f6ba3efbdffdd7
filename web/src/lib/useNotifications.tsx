import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useClient } from 'urql';
import { graphql } from '../gql';
import type { NotificationRowFragment } from '../gql/graphql';
import { useSession } from './session';

const Unread = graphql(`
  query UnreadNotifications {
    notifications(first: 0, unreadOnly: true) {
      unreadCount
    }
  }
`);

const Arrivals = graphql(`
  subscription NotificationArrivals {
    notifications {
      ...NotificationRow
    }
  }
`);

interface Feed {
  readonly unread: number | undefined;
  /** Notifications pushed since the console opened, newest first. */
  readonly arrived: readonly NotificationRowFragment[];
  refresh(): void;
}

const FeedContext = createContext<Feed>({ unread: undefined, arrived: [], refresh: () => undefined });

/** The unread count (read once, then counted up as notifications arrive live) and the arrivals. */
export function NotificationFeed({ children }: { children: ReactNode }) {
  const client = useClient();
  const session = useSession();
  const [unread, setUnread] = useState<number | undefined>();
  const [arrived, setArrived] = useState<readonly NotificationRowFragment[]>([]);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    void client
      .query(Unread, {}, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => result.data && setUnread(result.data.notifications.unreadCount));
  }, [client, version]);
  useEffect(() => {
    const live = client.subscription(Arrivals, {}).subscribe((result) => {
      const n = result.data?.notifications;
      if (n === undefined) return;
      setArrived((seen) => [n, ...seen]);
      setUnread((count) => (count === undefined ? count : count + 1));
    });
    // After a reconnect, the count is read again (arrivals meanwhile are in it).
    const off = session.onConnection(() => {
      if (session.connection() === 'connected') setVersion((v) => v + 1);
    });
    return () => {
      live.unsubscribe();
      off();
    };
  }, [client, session]);
  const feed = useMemo(() => ({ unread, arrived, refresh: () => setVersion((v) => v + 1) }), [unread, arrived]);
  return <FeedContext.Provider value={feed}>{children}</FeedContext.Provider>;
}

export const useNotifications = () => useContext(FeedContext);
