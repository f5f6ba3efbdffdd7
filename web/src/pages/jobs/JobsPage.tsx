import { useEffect, useMemo, useRef, useState } from 'react';
import { graphql } from '../../gql';
import type { JobCountsQuery } from '../../gql/graphql';
import { baseFilter, belongs, listFilter, stateFromUrl, TABS, urlOf, type ListState } from '../../lib/jobs';
import { navigate, useLocation, useTitle } from '../../lib/router';
import { useJobList } from '../../lib/useJobList';
import { BulkActions } from './BulkActions';
import { JobFilters } from './JobFilters';
import { JobTable } from './JobTable';
import { useKeptQuery } from '../../lib/useKeptQuery';

const Counts = graphql(`
  query JobCounts($filter: JobFilter) {
    jobCounts(filter: $filter) {
      status
      count
    }
  }
`);

function tabCount(counts: JobCountsQuery['jobCounts'] | undefined, statuses: readonly string[] | undefined): number | undefined {
  if (counts === undefined) return undefined;
  return counts.filter((c) => statuses === undefined || statuses.includes(c.status)).reduce((sum, c) => sum + c.count, 0);
}

export function JobsPage() {
  useTitle('Jobs');
  const location = useLocation();
  const search = location.search;
  const state = useMemo(() => stateFromUrl(new URLSearchParams(search)), [search]);
  const set = (change: Partial<ListState>) => navigate(urlOf({ ...state, ...change }));
  const filter = useMemo(() => listFilter(state), [state]);
  const countFilter = useMemo(() => baseFilter(state), [state]);
  const list = useJobList(filter, (job) => belongs(job, state));
  const [counts, refetchCounts] = useKeptQuery({ query: Counts, variables: { filter: countFilter } });
  // Counters and facets follow the pushed changes, at most once a second (event-driven, never a poll).
  const lastCount = useRef(0);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (list.changes === 0) return;
    const wait = Math.max(0, lastCount.current + 1000 - Date.now());
    const timer = setTimeout(() => {
      lastCount.current = Date.now();
      refetchCounts({ requestPolicy: 'network-only' });
      setVersion((v) => v + 1);
    }, wait);
    return () => clearTimeout(timer);
  }, [list.changes, refetchCounts]);

  return (
    <section>
      <h1>Jobs</h1>
      <JobFilters state={state} set={set} version={version} />
      <div role="tablist" aria-label="Job status" className="tabs">
        {TABS.map((tab) => {
          const count = tabCount(counts.data?.jobCounts, tab.statuses);
          return (
            <button
              key={tab.tab}
              type="button"
              role="tab"
              id={`tab-${tab.tab}`}
              aria-selected={state.tab === tab.tab}
              aria-controls="job-list"
              onClick={() => set({ tab: tab.tab })}
            >
              {tab.label}{' '}
              <span className="count" data-testid={`count-${tab.tab}`}>
                {count ?? '…'}
              </span>
            </button>
          );
        })}
      </div>
      <BulkActions filter={filter} />
      <div role="tabpanel" id="job-list" aria-labelledby={`tab-${state.tab}`}>
        {list.error !== undefined ? (
          <p role="alert">The jobs could not be loaded: {list.error}</p>
        ) : list.loading ? (
          <p aria-busy="true">Loading jobs…</p>
        ) : list.ids.length === 0 ? (
          <p className="empty">No job matches.</p>
        ) : (
          <JobTable ids={list.ids} byId={list.byId} onEnd={list.loadMore} hasMore={list.hasNextPage} />
        )}
      </div>
    </section>
  );
}
