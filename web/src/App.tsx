import { Component, lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { graphql } from './gql';
import { AbilityProvider, abilityOf, NO_RULES } from './lib/ability';
import { createSession } from './lib/client';
import { Link, useLocation } from './lib/router';
import { SessionContext, useConnection, useSession } from './lib/session';
import { claimsOf, forgetToken, storedToken, storeToken, takeTokenFromFragment } from './lib/token';
import { SignIn } from './pages/SignIn';
import { JobsPage } from './pages/jobs/JobsPage';
import { NotFound } from './pages/NotFound';

// The list is the first page most people open; the others load when first visited.
const JobPage = lazy(() => import('./pages/job/JobPage').then((m) => ({ default: m.JobPage })));
const NotificationsPage = lazy(() => import('./pages/NotificationsPage').then((m) => ({ default: m.NotificationsPage })));
const TypePage = lazy(() => import('./pages/type/TypePage').then((m) => ({ default: m.TypePage })));
const AdminPage = lazy(() => import('./pages/admin/AdminPage').then((m) => ({ default: m.AdminPage })));
import { useViewerAbility } from './lib/ability';
import { NotificationFeed, useNotifications } from './lib/useNotifications';
import { useKeptQuery } from './lib/useKeptQuery';

const Me = graphql(`
  query Me {
    me {
      id
      name
      actions
      rules
    }
  }
`);

const fromLink = takeTokenFromFragment();

export function App() {
  const [token, setToken] = useState(storedToken);
  const [notice, setNotice] = useState(
    fromLink === 'expired' ? 'This sign-in link has expired: ask for a new one or paste a token.' : undefined,
  );
  const signOut = useCallback((reason?: string) => {
    forgetToken();
    setNotice(reason);
    setToken(undefined);
  }, []);
  // The token's own expiry brings the sign-in page back, before a request fails.
  useEffect(() => {
    const exp = token === undefined ? undefined : claimsOf(token)?.exp;
    if (exp === undefined) return;
    const timer = setTimeout(() => signOut('Your session has expired: sign in again.'), Math.max(0, exp * 1000 - Date.now()));
    return () => clearTimeout(timer);
  }, [token, signOut]);
  const session = useMemo(() => (token === undefined ? undefined : createSession(token, signOut)), [token, signOut]);
  useEffect(() => () => session?.dispose(), [session]);

  if (session === undefined) {
    return (
      <SignIn
        notice={notice}
        onToken={(value) => {
          storeToken(value);
          setNotice(undefined);
          setToken(storedToken() ?? (setNotice('That token has expired.'), undefined));
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Provider value={session.client}>
        <Signed onSignOut={() => signOut()} />
      </Provider>
    </SessionContext.Provider>
  );
}

function Signed({ onSignOut }: { onSignOut: () => void }) {
  const [{ data, error }, refetchMe] = useKeptQuery({ query: Me });
  // The viewer's rules change when an admin grants or revokes: read them again when the tab comes
  // back into view and after a reconnect (events, never a timer).
  const session = useSession();
  useEffect(() => {
    const again = () => {
      if (document.visibilityState === 'visible') refetchMe({ requestPolicy: 'network-only' });
    };
    document.addEventListener('visibilitychange', again);
    window.addEventListener('focus', again);
    const off = session.onConnection(() => session.connection() === 'connected' && again());
    return () => {
      document.removeEventListener('visibilitychange', again);
      window.removeEventListener('focus', again);
      off();
    };
  }, [refetchMe, session]);
  const rules = data === undefined ? undefined : JSON.stringify(data.me.rules);
  const ability = useMemo(() => (rules === undefined ? undefined : abilityOf(JSON.parse(rules))), [rules]);
  // The page renders at once (its list is read beside `me`, not after it); new rules after the
  // first (a grant, a revoke) remount it, so that its lists are read again with them.
  const [first, setFirst] = useState<string | undefined>();
  if (first === undefined && rules !== undefined) setFirst(rules);
  const routes = first === undefined || rules === first ? 'first' : rules;
  if (error !== undefined && data === undefined) {
    return (
      <main className="center">
        <p role="alert">The server could not be reached: {error.message}</p>
      </main>
    );
  }
  return (
    <AbilityProvider value={ability ?? NO_RULES}>
      <NotificationFeed>
        <Layout viewer={data === undefined ? '…' : (data.me.name ?? data.me.id)} onSignOut={onSignOut}>
          <PageErrors>
            <Suspense fallback={<p aria-busy="true">Loading…</p>}>
              <Routes key={routes} />
            </Suspense>
          </PageErrors>
        </Layout>
      </NotificationFeed>
    </AbilityProvider>
  );
}

function Routes() {
  const { pathname } = useLocation();
  const job = /^\/jobs\/([^/]+)$/.exec(pathname);
  if (job?.[1] !== undefined) return <JobPage id={decodeURIComponent(job[1])} />;
  if (pathname === '/' || pathname === '/jobs') return <JobsPage />;
  if (pathname === '/notifications') return <NotificationsPage />;
  const type = /^\/types\/([^/]+)$/.exec(pathname);
  if (type?.[1] !== undefined) return <TypePage type={decodeURIComponent(type[1])} />;
  if (pathname === '/admin' || pathname.startsWith('/admin/')) return <AdminPage />;
  return <NotFound />;
}

function Layout({ viewer, onSignOut, children }: { viewer: string; onSignOut: () => void; children: React.ReactNode }) {
  const connection = useConnection();
  const { unread } = useNotifications();
  const ability = useViewerAbility();
  const admin = ability.can('manage_permissions', 'Permission') || ability.can('manage_alerts', 'Alert');
  return (
    <>
      {/* data-connection: the live socket's state, for tests and styles. */}
      <header className="top" data-connection={connection}>
        <nav aria-label="Main">
          <Link href="/" className="brand">
            Jobwatch
          </Link>
          <Link href="/">Jobs</Link>
          <Link href="/notifications" aria-label={`Notifications, ${unread ?? 0} unread`}>
            Notifications
            {unread !== undefined && unread > 0 && (
              <span className="badge" data-testid="unread-badge">
                {unread}
              </span>
            )}
          </Link>
          {admin && <Link href="/admin">Admin</Link>}
        </nav>
        <span className="viewer">
          {viewer}{' '}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      </header>
      {connection === 'reconnecting' && (
        <div className="banner" role="status">
          Connection lost: reconnecting… the view will catch up when it is back.
        </div>
      )}
      {connection === 'unreachable' && (
        <div className="banner" role="status">
          Live updates are not connected yet: retrying… what you see may be out of date.
        </div>
      )}
      <main>{children}</main>
    </>
  );
}

/** A page that throws shows what went wrong (and the rest of the console stays usable). */
class PageErrors extends Component<{ children: React.ReactNode }, { error: Error | undefined }> {
  override state = { error: undefined as Error | undefined };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <section>
        <h1>This page failed</h1>
        <p role="alert">{this.state.error.message}</p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </section>
    );
  }
}
