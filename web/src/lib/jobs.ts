import { graphql } from '../gql';
import type { JobFilter, JobRowFragment, JobStatus, JobTab } from '../gql/graphql';

export const JobRow = graphql(`
  fragment JobRow on Job {
    id
    name
    type
    asset
    scope
    status
    step
    message
    owner
    ownerName
    createdAt
    startedAt
    finishedAt
    duration
    slowerThanUsual
    terminal
    progress {
      percent
      indeterminate
      done
      total
      unit
      ratePerMinute
      etaSeconds
      phase
      updatedAt
    }
    viewerCan {
      cancel
      restart
      delete
      approve
      reject
      reschedule
      resolveTrap
      pauseTrap
      start
    }
  }
`);

/**
 * The monitor tabs. Their statuses are the schema's own (JobTab's descriptions): the list needs
 * them to drop a pushed job that left the tab (the server sends it once more with its new state).
 */
export const TABS: ReadonlyArray<{ tab: JobTab; label: string; statuses: readonly JobStatus[] | undefined }> = [
  { tab: 'ALL', label: 'All', statuses: undefined },
  {
    tab: 'ACTIVE',
    label: 'Active',
    statuses: ['WAITING_APPROVAL', 'PENDING', 'RUNNING', 'TRAPPED', 'TRAP_PAUSED', 'CANCELLING', 'ROLLBACK'],
  },
  { tab: 'COMPLETED', label: 'Completed', statuses: ['SUCCEEDED'] },
  { tab: 'FAILED', label: 'Failed', statuses: ['FAILED', 'ABENDED', 'EXPIRED'] },
];

/** The list's filter as it lives in the URL: shareable, and the back button restores it. */
export interface ListState {
  readonly tab: JobTab;
  readonly name: string;
  readonly types: readonly string[];
  readonly owners: readonly string[];
  readonly scope: string;
  readonly statuses: readonly JobStatus[];
  readonly from: string;
  readonly to: string;
  /** Attribute pairs every job must hold (JobFilter.attributes), in the URL as `attr=key=value`. */
  readonly attributes: ReadonlyArray<readonly [string, string]>;
}

/** "env=prod, connector=oracle" as pairs; a piece without "=" or with an empty side is left out. */
export function parseAttributes(text: string): Array<readonly [string, string]> {
  return text
    .split(',')
    .map((piece) => piece.split('='))
    .filter((parts) => parts.length === 2 && parts[0]!.trim() !== '' && parts[1]!.trim() !== '')
    .map((parts) => [parts[0]!.trim(), parts[1]!.trim()] as const);
}

export const attributesText = (pairs: ListState['attributes']) => pairs.map(([k, v]) => `${k}=${v}`).join(', ');

const list = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');

export function stateFromUrl(params: URLSearchParams): ListState {
  const tab = (params.get('tab') ?? 'ALL').toUpperCase();
  return {
    tab: (TABS.some((t) => t.tab === tab) ? tab : 'ALL') as JobTab,
    name: params.get('q') ?? '',
    types: list(params.get('type')),
    owners: list(params.get('owner')),
    scope: params.get('scope') ?? '',
    // Any status word: the server knows its statuses (an unknown one is its error to show).
    statuses: list(params.get('status'))
      .map((s) => s.toUpperCase())
      .filter((s): s is JobStatus => /^[A-Z_]+$/.test(s)),
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    attributes: parseAttributes(params.getAll('attr').join(',')),
  };
}

export function urlOf(state: ListState): string {
  const params = new URLSearchParams();
  if (state.tab !== 'ALL') params.set('tab', state.tab.toLowerCase());
  if (state.name !== '') params.set('q', state.name);
  if (state.types.length > 0) params.set('type', state.types.join(','));
  if (state.owners.length > 0) params.set('owner', state.owners.join(','));
  if (state.scope !== '') params.set('scope', state.scope);
  if (state.statuses.length > 0) params.set('status', state.statuses.join(',').toLowerCase());
  if (state.from !== '') params.set('from', state.from);
  if (state.to !== '') params.set('to', state.to);
  for (const [key, value] of state.attributes) params.append('attr', `${key}=${value}`);
  const query = params.toString();
  return query === '' ? '/' : `/?${query}`;
}

/** The filter without the tab: what the tab counters count. */
export function baseFilter(state: ListState): JobFilter {
  return {
    ...(state.name !== '' && { name: state.name }),
    ...(state.types.length > 0 && { types: [...state.types] }),
    ...(state.owners.length > 0 && { owners: [...state.owners] }),
    ...(state.scope !== '' && { scope: state.scope }),
    ...(state.statuses.length > 0 && { statuses: [...state.statuses] }),
    ...(state.from !== '' && { createdAfter: new Date(state.from).toISOString() }),
    ...(state.to !== '' && { createdBefore: new Date(state.to).toISOString() }),
    ...(state.attributes.length > 0 && { attributes: Object.fromEntries(state.attributes) }),
  };
}

export function listFilter(state: ListState): JobFilter {
  return { ...baseFilter(state), tab: state.tab };
}

/** Whether a pushed job still belongs in the list (an ACTIVE job that finished leaves the Active tab). */
export function belongs(job: JobRowFragment, state: ListState): boolean {
  const statuses = TABS.find((t) => t.tab === state.tab)?.statuses;
  if (statuses !== undefined && !statuses.includes(job.status)) return false;
  if (state.statuses.length > 0 && !state.statuses.includes(job.status)) return false;
  return true;
}

export type Action = 'cancel' | 'restart' | 'delete' | 'approve' | 'reject' | 'reschedule' | 'resolveTrap' | 'pauseTrap';

/** The CASL action behind each of the job's permissions (DOMAIN.md). */
export const CASL_ACTION: Record<Action, string> = {
  cancel: 'cancel',
  restart: 'restart',
  delete: 'delete',
  approve: 'approve',
  reject: 'approve',
  reschedule: 'reschedule',
  resolveTrap: 'resolve_trap',
  pauseTrap: 'resolve_trap',
};
