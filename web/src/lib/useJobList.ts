import { useEffect, useReducer, useRef } from 'react';
import { useClient } from 'urql';
import { graphql } from '../gql';
import type { JobFilter, JobRowFragment } from '../gql/graphql';
import { useSession } from './session';

const JobsPageQuery = graphql(`
  query JobsPage($filter: JobFilter, $first: Int, $after: String) {
    jobs(filter: $filter, first: $first, after: $after) {
      nodes {
        ...JobRow
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const JobsLive = graphql(`
  subscription JobsLive($filter: JobFilter, $snapshot: Int) {
    jobUpdated(filter: $filter, snapshot: $snapshot) {
      ...JobRow
      removed
    }
  }
`);

export const PAGE = 50;

interface State {
  readonly key: string;
  readonly ids: readonly string[];
  readonly byId: ReadonlyMap<string, JobRowFragment>;
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
  readonly loading: boolean;
  readonly error: string | undefined;
  /** Bumped on every pushed change: the tab counters refresh after it. */
  readonly changes: number;
}

type Event =
  | { kind: 'reset'; key: string }
  | { kind: 'page'; key: string; nodes: readonly JobRowFragment[]; endCursor: string | null; hasNextPage: boolean }
  | { kind: 'error'; key: string; message: string }
  | { kind: 'pushed'; key: string; jobs: ReadonlyArray<JobRowFragment & { removed: boolean }>; belongs: (job: JobRowFragment) => boolean };

const initial: State = {
  key: '',
  ids: [],
  byId: new Map(),
  endCursor: null,
  hasNextPage: false,
  loading: true,
  error: undefined,
  changes: 0,
};

function reduce(state: State, event: Event): State {
  if (event.kind === 'reset') return { ...initial, key: event.key };
  if (event.key !== state.key) return state;
  switch (event.kind) {
    case 'page': {
      const byId = new Map(state.byId);
      const ids = [...state.ids];
      for (const node of event.nodes) {
        if (!byId.has(node.id)) ids.push(node.id);
        byId.set(node.id, node);
      }
      return { ...state, ids, byId, endCursor: event.endCursor, hasNextPage: event.hasNextPage, loading: false, error: undefined };
    }
    case 'error':
      return { ...state, loading: false, error: event.message };
    case 'pushed': {
      const byId = new Map(state.byId);
      let ids = state.ids;
      const added: string[] = [];
      const dropped = new Set<string>();
      for (const job of event.jobs) {
        if (job.removed || !event.belongs(job)) {
          if (byId.delete(job.id)) dropped.add(job.id);
          continue;
        }
        if (!byId.has(job.id)) added.push(job.id);
        byId.set(job.id, job);
      }
      if (dropped.size > 0) ids = ids.filter((id) => !dropped.has(id));
      if (added.length > 0) {
        // Newest first: a job created now goes on top; one that came back into view goes by its time.
        const merged = [...new Set([...added, ...ids])];
        merged.sort((a, b) => {
          const x = byId.get(a)!,
            y = byId.get(b)!;
          return x.createdAt === y.createdAt ? (x.id < y.id ? 1 : -1) : x.createdAt < y.createdAt ? 1 : -1;
        });
        ids = merged;
      }
      return { ...state, ids, byId, changes: state.changes + 1 };
    }
  }
}

/**
 * The list: the first page by query, the next ones by keyset cursor as the user scrolls, and
 * every change pushed by jobUpdated with the same filter (its snapshot makes the view true again
 * after a reconnect). Pushed events are applied once per animation frame, however many come.
 */
export function useJobList(filter: JobFilter, belongs: (job: JobRowFragment) => boolean) {
  const client = useClient();
  const session = useSession();
  const key = JSON.stringify(filter);
  const [state, dispatch] = useReducer(reduce, initial);
  // The latest predicate, for pushed events applied later (kept after each render, not during it).
  const belongsRef = useRef(belongs);
  useEffect(() => {
    belongsRef.current = belongs;
  });
  const loadingMore = useRef(false);

  useEffect(() => {
    dispatch({ kind: 'reset', key });
    let pending: Array<JobRowFragment & { removed: boolean }> = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const jobs = pending;
      pending = [];
      dispatch({ kind: 'pushed', key, jobs, belongs: (job) => belongsRef.current(job) });
    };
    const first = client.query(JobsPageQuery, { filter, first: PAGE }, { requestPolicy: 'network-only' }).toPromise();
    void first.then((result) => {
      if (result.data) {
        const { nodes, pageInfo } = result.data.jobs;
        dispatch({ kind: 'page', key, nodes, endCursor: pageInfo.endCursor ?? null, hasNextPage: pageInfo.hasNextPage });
      } else dispatch({ kind: 'error', key, message: result.error?.message ?? 'the list could not be loaded' });
    });
    const live = client.subscription(JobsLive, { filter, snapshot: PAGE }).subscribe((result) => {
      const job = result.data?.jobUpdated;
      if (job === undefined) return;
      pending.push(job);
      if (frame === 0) frame = requestAnimationFrame(flush);
    });
    // After a reconnect the counters are read again too (the snapshot refreshes the rows).
    const off = session.onConnection(() => {
      if (session.connection() === 'connected') dispatch({ kind: 'pushed', key, jobs: [], belongs: () => true });
    });
    return () => {
      live.unsubscribe();
      off();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
    // The filter is keyed by its JSON.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, session]);

  const loadMore = () => {
    if (loadingMore.current || !state.hasNextPage || state.endCursor === null) return;
    loadingMore.current = true;
    void client
      .query(JobsPageQuery, { filter, first: PAGE, after: state.endCursor }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        loadingMore.current = false;
        if (result.data) {
          const { nodes, pageInfo } = result.data.jobs;
          dispatch({ kind: 'page', key, nodes, endCursor: pageInfo.endCursor ?? null, hasNextPage: pageInfo.hasNextPage });
        }
      });
  };
  return { ...state, loadMore };
}
